// The Fortnox card on contacts and companies. hubspot.fetch is not mocked by HubSpot's testing
// utilities, so the module that wraps it (cards/service.ts) stands in for the service, answering
// as the card JSON contract says.
import React, { useState } from 'react';
import {
  Alert,
  Button,
  EmptyState,
  ErrorState,
  Link,
  LoadingSpinner,
  StatisticsItem,
  StatusTag,
  Table,
  TableCell,
  Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CustomerFigures } from '../src/app/cards/CustomerFigures';
import { recordGet, recordSync, recordUpdate } from '../src/app/cards/service';
import type { CustomerCardState } from '../src/app/cards/service';

vi.mock('../src/app/cards/service', () => ({
  recordGet: vi.fn(),
  recordUpdate: vi.fn(),
  recordSync: vi.fn(),
}));

const BASE = 'https://fortnox-hubspot.example';
const FORTNOX = 'https://apps.fortnox.se';

function ready(changes: Partial<CustomerCardState> = {}): CustomerCardState {
  return {
    kind: 'customer',
    state: 'ready',
    can_act: true,
    busy: false,
    settings_url: `${BASE}/settings/`,
    customer: { number: '12', name: 'Nordljus Konsult AB', url: `${FORTNOX}/customer/12` },
    figures: {
      currency: 'SEK',
      total_invoiced: '12500.00',
      balance: '2500.00',
      overdue: '1000.00',
      synced_at: '2026-11-27T22:00:00Z',
    },
    invoices: [
      {
        kind: 'invoice',
        number: '5',
        date: '2026-11-01',
        due_date: '2026-12-01',
        total: '1250.00',
        balance: '0.00',
        currency: 'SEK',
        status: 'paid',
        url: `${FORTNOX}/invoice/5`,
      },
      {
        kind: 'invoice',
        number: '6',
        date: '2026-10-01',
        due_date: '2026-10-31',
        total: '1000.00',
        balance: '1000.00',
        currency: 'SEK',
        status: 'overdue',
        url: `${FORTNOX}/invoice/6`,
      },
      {
        kind: 'invoice',
        number: '7',
        date: '2026-11-20',
        due_date: '2026-12-20',
        total: '300.50',
        balance: '300.50',
        currency: 'EUR',
        status: 'unpaid',
        url: `${FORTNOX}/invoice/7`,
      },
    ],
    message: '',
    fix: '',
    outcome: null,
    ...changes,
  };
}

// Intl puts (narrow) no-break spaces in amounts; compare with plain ones.
const plain = (text: string | number | null) => String(text ?? '').replace(/[\u00a0\u202f]/g, ' ');

function cardRenderer(locale: string, objectTypeId = '0-2') {
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.user.locale = locale;
  renderer.mocks.context.variables = { PUBLIC_BASE_URL: `${BASE}/` };
  renderer.mocks.context.portal.timezone = 'Europe/Stockholm';
  renderer.mocks.context.crm = { objectId: 501, objectTypeId };
  return renderer;
}

beforeEach(() => {
  vi.mocked(recordGet).mockReset();
  vi.mocked(recordUpdate).mockReset();
  vi.mocked(recordSync).mockReset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('CustomerFigures', () => {
  it('shows the customer, its figures for an English user and the latest invoices', async () => {
    vi.mocked(recordGet).mockResolvedValue(ready());
    const { render, find, findAll, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);
    expect(find(LoadingSpinner).props.label).toBe('Reading from Fortnox for HubSpot…');

    await waitFor(() => expect(findByTestId(Link, 'customer-link').text).toBe('12'));
    expect(vi.mocked(recordGet)).toHaveBeenCalledWith(BASE, mocks.context);
    expect(findByTestId(Link, 'customer-link').props.href).toEqual({
      url: `${FORTNOX}/customer/12`,
      external: true,
    });
    expect(plain(findByTestId(StatisticsItem, 'total-invoiced').props.number)).toBe(
      'SEK 12,500.00',
    );
    expect(findByTestId(StatisticsItem, 'total-invoiced').props.label).toBe('Total invoiced');
    expect(plain(findByTestId(StatisticsItem, 'balance').props.number)).toBe('SEK 2,500.00');
    expect(plain(findByTestId(StatisticsItem, 'overdue').props.number)).toBe('SEK 1,000.00');
    // 22:00 UTC is 23:00 in Stockholm.
    expect(plain(findByTestId(Text, 'synced-at').text)).toBe('Nov 27, 2026, 11:00 PM');

    const table = findByTestId(Table, 'invoices');
    expect(table.findAll(Link).map(link => link.text)).toEqual(['5', '6', '7']);
    expect(findByTestId(Link, 'invoice-7').props.href).toEqual({
      url: `${FORTNOX}/invoice/7`,
      external: true,
    });
    const cells = table.findAll(TableCell).map(cell => plain(cell.text));
    // Each invoice in its own currency: the EUR one stays in euros.
    expect(cells).toEqual(
      expect.arrayContaining(['2026-11-01', '2026-12-01', 'SEK 1,250.00', 'SEK 0.00', '€300.50']),
    );
    expect(findByTestId(StatusTag, 'status-5').text).toBe('Paid');
    expect(findByTestId(StatusTag, 'status-5').props.variant).toBe('success');
    expect(findByTestId(StatusTag, 'status-6').text).toBe('Overdue');
    expect(findByTestId(StatusTag, 'status-6').props.variant).toBe('danger');
    expect(findByTestId(StatusTag, 'status-7').text).toBe('Unpaid');
    expect(findByTestId(StatusTag, 'status-7').props.variant).toBe('warning');

    expect(findByTestId(Button, 'update').text).toBe('Update');
    expect(findByTestId(Button, 'perform-sync').text).toBe('Perform Sync');
    expect(findAll(Button).every(button => !button.props.disabled)).toBe(true);
    expect(findAll(Alert)).toEqual([]);
  });

  it('speaks Swedish: labels, status words and amounts', async () => {
    vi.mocked(recordGet).mockResolvedValue(ready());
    const { render, findByTestId, waitFor, mocks } = cardRenderer('sv-se');

    render(<CustomerFigures context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'update').text).toBe('Uppdatera'));
    expect(findByTestId(Button, 'perform-sync').text).toBe('Synkronisera');
    expect(findByTestId(StatisticsItem, 'total-invoiced').props.label).toBe('Totalt fakturerat');
    expect(plain(findByTestId(StatisticsItem, 'total-invoiced').props.number)).toBe('12 500,00 kr');
    expect(plain(findByTestId(StatisticsItem, 'overdue').props.number)).toBe('1 000,00 kr');
    expect(findByTestId(StatusTag, 'status-5').text).toBe('Betald');
    expect(findByTestId(StatusTag, 'status-6').text).toBe('Förfallen');
    expect(findByTestId(StatusTag, 'status-7').text).toBe('Obetald');
    expect(plain(findByTestId(Text, 'synced-at').text)).toBe('27 nov. 2026 23:00');
  });

  it('shows that there are no invoices yet', async () => {
    vi.mocked(recordGet).mockResolvedValue(
      ready({
        figures: {
          currency: 'SEK',
          total_invoiced: '0.00',
          balance: '0.00',
          overdue: '0.00',
          synced_at: '2026-11-27T22:00:00Z',
        },
        invoices: [],
      }),
    );
    const { render, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);

    await waitFor(() =>
      expect(findByTestId(Text, 'no-invoices').text).toBe(
        'This customer has no booked invoices in Fortnox.',
      ),
    );
    expect(maybeFindByTestId(Table, 'invoices')).toBeNull();
  });

  it('without Fortnox, says so and links to the settings page, with no buttons', async () => {
    vi.mocked(recordGet).mockResolvedValue(
      ready({ state: 'not_connected', customer: null, figures: null, invoices: [] }),
    );
    const { render, find, findAll, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);

    await waitFor(() => expect(find(Alert).props.title).toBe('Fortnox is not connected'));
    const link = findByTestId(Link, 'settings-link');
    expect(link.text).toBe('Open the settings');
    expect(link.props.href).toEqual({ url: `${BASE}/settings/`, external: true });
    expect(findAll(Button)).toEqual([]);
  });

  it('explains a record without a Fortnox customer; Update creates it and shows the outcome', async () => {
    vi.mocked(recordGet).mockResolvedValue(
      ready({ state: 'no_customer', customer: null, figures: null, invoices: [] }),
    );
    vi.mocked(recordUpdate).mockResolvedValue(
      ready({
        state: 'not_synced',
        figures: null,
        invoices: [],
        outcome: {
          action: 'update',
          status: 'succeeded',
          message: 'Fortnox customer 12 was created.',
          fix: '',
        },
      }),
    );
    const { render, find, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer(
      'en-us',
      '0-1',
    );

    render(<CustomerFigures context={mocks.context} />);

    await waitFor(() => expect(find(EmptyState).props.title).toBe('No Fortnox customer yet'));
    expect(find(EmptyState).find(Text).text).toBe(
      'This record is not linked to a Fortnox customer. Update creates the customer in Fortnox from this record.',
    );
    // Nothing to read before the customer exists.
    expect(maybeFindByTestId(Button, 'perform-sync')).toBeNull();

    findByTestId(Button, 'update').trigger('onClick');

    await waitFor(() => expect(findByTestId(Alert, 'outcome').props.title).toBe('Done'));
    expect(vi.mocked(recordUpdate)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(recordUpdate)).toHaveBeenCalledWith(BASE, mocks.context);
    expect(findByTestId(Alert, 'outcome').props.variant).toBe('success');
    expect(findByTestId(Alert, 'outcome').text).toBe('Fortnox customer 12 was created.');
    expect(findByTestId(Link, 'customer-link').text).toBe('12');
    expect(findByTestId(EmptyState, 'not-synced').props.title).toBe('Figures not read yet');
    expect(findByTestId(Button, 'perform-sync').text).toBe('Perform Sync');
  });

  it('shows a failed Update with its fix', async () => {
    vi.mocked(recordGet).mockResolvedValue(ready());
    let answer: (state: CustomerCardState) => void = () => {};
    vi.mocked(recordUpdate).mockReturnValue(
      new Promise(resolve => {
        answer = resolve;
      }),
    );
    const failed = ready({
      outcome: {
        action: 'update',
        status: 'failed',
        message: 'Fortnox refused the customer: the email address is not valid.',
        fix: 'Correct the email on the company and press Update again.',
      },
    });
    const { render, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);
    await waitFor(() => expect(findByTestId(Button, 'update').props.disabled).toBe(false));
    findByTestId(Button, 'update').trigger('onClick');

    // While Fortnox is asked, the buttons wait.
    await waitFor(() =>
      expect(findByTestId(LoadingSpinner, 'pending').props.label).toBe('Asking Fortnox…'),
    );
    expect(findByTestId(Button, 'update').props.disabled).toBe(true);
    expect(findByTestId(Button, 'perform-sync').props.disabled).toBe(true);
    answer(failed);

    await waitFor(() => expect(findByTestId(Alert, 'outcome').props.variant).toBe('error'));
    expect(findByTestId(Alert, 'outcome').props.title).toBe('It did not work');
    expect(findByTestId(Alert, 'outcome').text).toBe(
      'Fortnox refused the customer: the email address is not valid. ' +
        'Correct the email on the company and press Update again.',
    );
  });

  it('while the service is busy, polls every 3 s until it is done, then stops', async () => {
    vi.useFakeTimers();
    vi.mocked(recordGet).mockResolvedValue(ready());
    const running = {
      action: 'sync' as const,
      status: 'running' as const,
      message: 'Fortnox is slow; reading the invoices in the background.',
      fix: '',
    };
    vi.mocked(recordSync).mockResolvedValue(ready({ busy: true, outcome: running }));
    const { render, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);
    await waitFor(() => expect(findByTestId(Button, 'perform-sync').props.disabled).toBe(false));
    vi.mocked(recordGet)
      .mockReset()
      .mockResolvedValueOnce(ready({ busy: true, outcome: running }))
      .mockResolvedValueOnce(
        ready({
          outcome: {
            action: 'sync',
            status: 'succeeded',
            message: 'Read 4 invoices from Fortnox.',
            fix: '',
          },
        }),
      );

    findByTestId(Button, 'perform-sync').trigger('onClick');

    await waitFor(() => expect(findByTestId(Alert, 'outcome').props.title).toBe('Still working'));
    expect(findByTestId(LoadingSpinner, 'busy').props.label).toBe(
      'Working in the background; this card updates by itself.',
    );
    expect(findByTestId(Button, 'perform-sync').props.disabled).toBe(true);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(0);

    await vi.advanceTimersByTimeAsync(2999);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(1); // still busy
    await vi.advanceTimersByTimeAsync(3000);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(2); // done

    await waitFor(() => expect(findByTestId(Alert, 'outcome').props.title).toBe('Done'));
    expect(findByTestId(Alert, 'outcome').text).toBe('Read 4 invoices from Fortnox.');
    expect(maybeFindByTestId(LoadingSpinner, 'busy')).toBeNull();
    expect(findByTestId(Button, 'perform-sync').props.disabled).toBe(false);
    await vi.advanceTimersByTimeAsync(10000);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(2);
  });

  it('stops polling when the card is gone', async () => {
    vi.useFakeTimers();
    vi.mocked(recordGet).mockResolvedValue(ready({ busy: true }));
    const { render, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');
    // The renderer has no unmount: a parent that drops the card stands in for leaving the record.
    function Page() {
      const [shown, setShown] = useState(true);
      return (
        <>
          <Button testId="leave" onClick={() => setShown(false)}>
            leave
          </Button>
          {shown ? <CustomerFigures context={mocks.context} /> : null}
        </>
      );
    }

    render(<Page />);
    await waitFor(() => expect(findByTestId(LoadingSpinner, 'busy')).toBeTruthy());
    await vi.advanceTimersByTimeAsync(3000);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(3); // the same busy answer polls again

    findByTestId(Button, 'leave').trigger('onClick');
    await waitFor(() => expect(maybeFindByTestId(LoadingSpinner, 'busy')).toBeNull());
    await vi.advanceTimersByTimeAsync(9000);
    expect(vi.mocked(recordGet)).toHaveBeenCalledTimes(3);
  });

  it('a user without the role sees the figures, and the buttons disabled with why', async () => {
    vi.mocked(recordGet).mockResolvedValue(ready({ can_act: false }));
    const { render, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'update').props.disabled).toBe(true));
    expect(findByTestId(Button, 'perform-sync').props.disabled).toBe(true);
    expect(findByTestId(Text, 'only-allowed').text).toBe(
      'Only super admins and the users allowed on the settings page may use these buttons.',
    );
    expect(plain(findByTestId(StatisticsItem, 'balance').props.number)).toBe('SEK 2,500.00');
  });

  it('says so when the service cannot be reached', async () => {
    vi.mocked(recordGet).mockRejectedValue(new Error('The service answered 503.'));
    const { render, find, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);

    await waitFor(() => expect(find(ErrorState).props.title).toBe('The app could not be reached'));
    expect(
      find(ErrorState)
        .findAll(Text)
        .map(text => text.text),
    ).toEqual(['The service answered 503.', 'Try again in a few minutes.']);
  });

  it('without the profile variable PUBLIC_BASE_URL, says so and calls nothing', async () => {
    const { render, find, mocks } = cardRenderer('en-us');
    mocks.context.variables = {};

    render(<CustomerFigures context={mocks.context} />);

    expect(find(ErrorState).props.title).toBe('The app could not be reached');
    expect(find(ErrorState).findAll(Text)[0].text).toBe(
      'The project profile has no PUBLIC_BASE_URL.',
    );
    expect(vi.mocked(recordGet)).not.toHaveBeenCalled();
  });

  it("shows the service's refusal of a button and keeps the figures", async () => {
    vi.mocked(recordGet).mockResolvedValue(ready());
    vi.mocked(recordUpdate).mockRejectedValue(
      new Error('Only super admins and the users they allow may use the card buttons.'),
    );
    const { render, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<CustomerFigures context={mocks.context} />);
    await waitFor(() => expect(findByTestId(Button, 'update').props.disabled).toBe(false));
    findByTestId(Button, 'update').trigger('onClick');

    await waitFor(() =>
      expect(findByTestId(Alert, 'action-error').props.title).toBe('The button did not work'),
    );
    expect(findByTestId(Alert, 'action-error').text).toBe(
      'Only super admins and the users they allow may use the card buttons.',
    );
    expect(plain(findByTestId(StatisticsItem, 'total-invoiced').props.number)).toBe(
      'SEK 12,500.00',
    );
  });
});
