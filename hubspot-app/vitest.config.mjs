// The settings component's tests (tests/*.test.tsx), with HubSpot's UI-extension testing
// utilities (@hubspot/ui-extensions/testing). Run by `npm test`; the Python suite runs it too
// (tests/hubspot_app/test_settings_component.py).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.tsx'],
    environment: 'node',
  },
});
