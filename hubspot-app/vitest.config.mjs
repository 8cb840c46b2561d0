// The settings component's and the app cards' tests (tests/*.test.ts[x]), with HubSpot's
// UI-extension testing utilities (@hubspot/ui-extensions/testing). Run by `npm test`; the Python
// suite runs them too (tests/hubspot_app/test_ui_extensions.py).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'tests/**/*.test.tsx'],
    environment: 'node',
  },
});
