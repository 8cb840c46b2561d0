// The Settings tab in HubSpot shows the connection and opens the settings page through a
// single-use sign-in link. hubspot.fetch is not mocked by HubSpot's utilities, so the module
// that wraps it (service.ts) stands in for the service.
import React from 'react';
import { Alert, Button, Text } from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { beforeEach, describe, expect, it, vi } from 'vitest';

import { Settings } from '../src/app/settings/Settings';
import { connectionStatusGet, signInLinkCreate } from '../src/app/settings/service';

vi.mock('../src/app/settings/service', () => ({
  connectionStatusGet: vi.fn(),
  signInLinkCreate: vi.fn(),
}));

const BASE = 'https://fortnox-hubspot.example';
const CONNECTED = {
  installation: 'active',
  fortnox: { status: 'connected', company_name: 'Nordljus Konsult AB', organisation_number: '556677-8899' },
  problem: '',
  fix: '',
};

function settingsRenderer(locale: string) {
  const renderer = createRenderer('settings');
  renderer.mocks.context.user.locale = locale;
  renderer.mocks.context.variables = { PUBLIC_BASE_URL: `${BASE}/` };
  return renderer;
}

beforeEach(() => {
  vi.mocked(connectionStatusGet).mockReset();
  vi.mocked(signInLinkCreate).mockReset();
});

describe('Settings', () => {
  it('shows the Fortnox company and opens the page through a fresh sign-in link', async () => {
    vi.mocked(connectionStatusGet).mockResolvedValue(CONNECTED);
    vi.mocked(signInLinkCreate)
      .mockResolvedValueOnce({ url: `${BASE}/sign-in/first`, expires_in: 300 })
      .mockResolvedValueOnce({ url: `${BASE}/sign-in/second`, expires_in: 300 });
    const { render, find, findByTestId, waitFor, mocks } = settingsRenderer('en-us');

    render(<Settings context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'open').props.href).toBeDefined());
    expect(findByTestId(Text, 'fortnox-state').text).toBe(
      'Connected to Nordljus Konsult AB (556677-8899)',
    );
    const open = findByTestId(Button, 'open');
    expect(open.text).toBe('Open settings');
    expect(open.props.href).toEqual({ url: `${BASE}/sign-in/first`, external: true });
    expect(vi.mocked(signInLinkCreate)).toHaveBeenCalledWith(BASE, 'en-us');
    expect(vi.mocked(connectionStatusGet)).toHaveBeenCalledWith(BASE);

    // A link works once: clicking asks for the next one.
    open.trigger('onClick');
    await waitFor(() =>
      expect(findByTestId(Button, 'open').props.href).toEqual({
        url: `${BASE}/sign-in/second`,
        external: true,
      }),
    );
    expect(() => find(Alert)).toThrow();
  });

  it('speaks Swedish to a Swedish HubSpot user and shows the problem with its fix', async () => {
    vi.mocked(connectionStatusGet).mockResolvedValue({
      ...CONNECTED,
      fortnox: { status: 'not_connected', company_name: '', organisation_number: '' },
      problem: 'Fortnox is not connected.',
      fix: 'Connect Fortnox below to start creating invoices and orders.',
    });
    vi.mocked(signInLinkCreate).mockResolvedValue({ url: `${BASE}/sign-in/x`, expires_in: 300 });
    const { render, findByTestId, waitFor, mocks } = settingsRenderer('sv-se');

    render(<Settings context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'open').props.href).toBeDefined());
    expect(findByTestId(Text, 'fortnox-state').text).toBe('Inte ansluten');
    expect(findByTestId(Button, 'open').text).toBe('Öppna inställningar');
    const problem = findByTestId(Alert, 'problem');
    expect(problem.props.title).toBe('Fortnox is not connected.');
    expect(problem.text).toBe('Connect Fortnox below to start creating invoices and orders.');
    expect(vi.mocked(signInLinkCreate)).toHaveBeenCalledWith(BASE, 'sv-se');
  });

  it('says so when the service cannot be reached', async () => {
    vi.mocked(connectionStatusGet).mockRejectedValue(new Error('The service answered 503.'));
    vi.mocked(signInLinkCreate).mockRejectedValue(new Error('The service answered 503.'));
    const { render, find, waitFor, mocks } = settingsRenderer('en-us');

    render(<Settings context={mocks.context} />);

    await waitFor(() => expect(find(Alert).props.title).toBe('The app could not be reached'));
    expect(find(Alert).text).toContain('The service answered 503.');
  });
});
