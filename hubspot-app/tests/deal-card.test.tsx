// The Fortnox card on deals. cards/service.ts stands in for the service (HubSpot's testing
// utilities do not mock hubspot.fetch), answering as the card JSON contract says.
import React from 'react';
import {
  Alert,
  Button,
  ErrorState,
  Link,
  LoadingSpinner,
  Select,
  StatusTag,
  Text,
} from '@hubspot/ui-extensions';
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { DealDocuments } from '../src/app/cards/DealDocuments';
import { dealCreate, dealGet, dealReplay, dealSync } from '../src/app/cards/service';
import type { DealCardState, FortnoxDocument } from '../src/app/cards/service';

vi.mock('../src/app/cards/service', () => ({
  dealGet: vi.fn(),
  dealCreate: vi.fn(),
  dealReplay: vi.fn(),
  dealSync: vi.fn(),
}));

const BASE = 'https://fortnox-hubspot.example';
const FORTNOX = 'https://apps.fortnox.se';

const INVOICE: FortnoxDocument = {
  kind: 'invoice',
  number: '9',
  status: 'paid',
  date: '2026-11-02',
  due_date: '2026-12-02',
  total: '1250.00',
  balance: '0.00',
  currency: 'SEK',
  url: `${FORTNOX}/invoice/9`,
};

const FAILED_RUN = {
  id: 42,
  kind: 'invoice',
  status: 'failed',
  trigger: 'Deal stage',
  finished_at: '2026-11-27T21:15:00Z',
  message: 'Fortnox refused the invoice: article 100 does not exist.',
  fix: 'Create article 100 in Fortnox, then press Replay.',
  can_replay: true,
};

function deal(changes: Partial<DealCardState> = {}): DealCardState {
  return {
    kind: 'deal',
    state: 'ready',
    can_act: true,
    busy: false,
    settings_url: `${BASE}/settings/`,
    documents: [],
    last_run: null,
    create: { allowed: true, again: false, default_type: 'order', reason: '' },
    message: '',
    fix: '',
    outcome: null,
    ...changes,
  };
}

const plain = (text: string | number | null) => String(text ?? '').replace(/[\u00a0\u202f]/g, ' ');

function cardRenderer(locale: string) {
  const renderer = createRenderer('crm.record.tab');
  renderer.mocks.context.user.locale = locale;
  renderer.mocks.context.variables = { PUBLIC_BASE_URL: BASE };
  renderer.mocks.context.portal.timezone = 'Europe/Stockholm';
  renderer.mocks.context.crm = { objectId: 9001, objectTypeId: '0-3' };
  return renderer;
}

beforeEach(() => {
  for (const fn of [dealGet, dealCreate, dealReplay, dealSync]) vi.mocked(fn).mockReset();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('DealDocuments', () => {
  it('shows a paid invoice, an order with the invoice made from it, and no Replay after a run that succeeded', async () => {
    vi.mocked(dealGet).mockResolvedValue(
      deal({
        documents: [
          INVOICE,
          {
            kind: 'order',
            number: '7',
            status: 'booked',
            date: '2026-11-01',
            due_date: null,
            total: '800.00',
            balance: '800.00',
            currency: 'SEK',
            url: `${FORTNOX}/order/7`,
            invoice: {
              ...INVOICE,
              number: '11',
              status: 'overdue',
              balance: '800.00',
              total: '800.00',
              url: `${FORTNOX}/invoice/11`,
            },
          },
        ],
        last_run: {
          ...FAILED_RUN,
          status: 'succeeded',
          message: 'Invoice 9 was created.',
          fix: '',
          can_replay: false,
        },
        create: {
          allowed: false,
          again: false,
          default_type: 'invoice',
          reason: 'The deal already has invoice 9 in Fortnox.',
        },
      }),
    );
    const { render, find, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);
    expect(find(LoadingSpinner).props.label).toBe('Reading from Fortnox for HubSpot…');

    await waitFor(() => expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Paid'));
    expect(vi.mocked(dealGet)).toHaveBeenCalledWith(BASE, mocks.context);
    expect(findByTestId(StatusTag, 'status-invoice-9').props.variant).toBe('success');
    expect(findByTestId(Text, 'kind-invoice-9').text).toBe('Invoice');
    expect(findByTestId(Link, 'link-invoice-9').props.href).toEqual({
      url: `${FORTNOX}/invoice/9`,
      external: true,
    });
    expect(plain(findByTestId(Text, 'balance-invoice-9').text)).toBe('SEK 0.00');
    expect(findByTestId(Text, 'kind-order-7').text).toBe('Order');
    expect(findByTestId(StatusTag, 'status-order-7').text).toBe('Booked');
    expect(findByTestId(Text, 'kind-invoice-11').text).toBe('↳ Invoice (from the order 7)');
    expect(findByTestId(StatusTag, 'status-invoice-11').text).toBe('Overdue');
    expect(findByTestId(StatusTag, 'status-invoice-11').props.variant).toBe('danger');

    const run = findByTestId(Alert, 'last-run');
    expect(run.props.variant).toBe('success');
    expect(plain(run.props.title)).toBe(
      'Last run: Invoice, Deal stage, succeeded (Nov 27, 2026, 10:15 PM)',
    );
    expect(maybeFindByTestId(Button, 'replay')).toBeNull();
    // A live document: no Create now, and the service's reason why.
    expect(maybeFindByTestId(Button, 'create')).toBeNull();
    expect(findByTestId(Text, 'create-reason').text).toBe(
      'The deal already has invoice 9 in Fortnox.',
    );
    expect(findByTestId(Button, 'refresh').text).toBe('Refresh from Fortnox');
  });

  it('offers Replay for a failed run, with its fix, and replays that run', async () => {
    vi.mocked(dealGet).mockResolvedValue(deal({ last_run: FAILED_RUN }));
    vi.mocked(dealReplay).mockResolvedValue(
      deal({
        documents: [{ ...INVOICE, status: 'draft', balance: '1250.00' }],
        last_run: {
          ...FAILED_RUN,
          id: 43,
          status: 'succeeded',
          message: 'Invoice 9 was created.',
          fix: '',
          can_replay: false,
        },
        create: {
          allowed: false,
          again: false,
          default_type: 'invoice',
          reason: 'The deal already has invoice 9 in Fortnox.',
        },
        outcome: {
          action: 'replay',
          status: 'succeeded',
          message: 'Invoice 9 was created.',
          fix: '',
        },
      }),
    );
    const { render, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'replay').text).toBe('Replay'));
    const run = findByTestId(Alert, 'last-run');
    expect(run.props.variant).toBe('error');
    expect(run.text).toBe(
      'Fortnox refused the invoice: article 100 does not exist. Create article 100 in Fortnox, then press Replay.',
    );
    expect(findByTestId(Text, 'no-documents').text).toBe('This deal has no Fortnox document yet.');

    findByTestId(Button, 'replay').trigger('onClick');

    await waitFor(() => expect(findByTestId(Alert, 'outcome').props.title).toBe('Done'));
    expect(vi.mocked(dealReplay)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(dealReplay)).toHaveBeenCalledWith(BASE, mocks.context, 42);
    expect(findByTestId(Alert, 'outcome').text).toBe('Invoice 9 was created.');
    expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Draft');
    expect(maybeFindByTestId(Button, 'replay')).toBeNull();
  });

  it('Create now asks invoice or order, defaulting to the settings, and creates the chosen type', async () => {
    vi.mocked(dealGet).mockResolvedValue(deal());
    vi.mocked(dealCreate).mockResolvedValue(
      deal({
        documents: [{ ...INVOICE, status: 'draft', balance: '1250.00' }],
        create: {
          allowed: false,
          again: false,
          default_type: 'order',
          reason: 'The deal already has invoice 9 in Fortnox.',
        },
        outcome: {
          action: 'create',
          status: 'succeeded',
          message: 'Invoice 9 was created as a draft.',
          fix: '',
        },
      }),
    );
    const { render, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'create').text).toBe('Create now'));
    expect(maybeFindByTestId(Select, 'document-type')).toBeNull();
    findByTestId(Button, 'create').trigger('onClick');

    await waitFor(() => expect(findByTestId(Select, 'document-type').props.value).toBe('order'));
    const select = findByTestId(Select, 'document-type');
    expect(select.props.label).toBe('Create as');
    expect(select.props.options).toEqual([
      { label: 'Invoice', value: 'invoice' },
      { label: 'Order', value: 'order' },
    ]);
    // Nothing is created before the confirm button.
    expect(vi.mocked(dealCreate)).not.toHaveBeenCalled();
    // The library types the event argument as the handler itself; at run time it is the handler's argument.
    select.trigger('onChange', 'invoice' as never);
    await waitFor(() => expect(findByTestId(Select, 'document-type').props.value).toBe('invoice'));
    findByTestId(Button, 'create-confirm').trigger('onClick');

    await waitFor(() =>
      expect(findByTestId(Alert, 'outcome').text).toBe('Invoice 9 was created as a draft.'),
    );
    expect(vi.mocked(dealCreate)).toHaveBeenCalledTimes(1);
    expect(vi.mocked(dealCreate)).toHaveBeenCalledWith(BASE, mocks.context, 'invoice');
    expect(maybeFindByTestId(Select, 'document-type')).toBeNull();
    expect(maybeFindByTestId(Button, 'create')).toBeNull();
    expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Draft');
  });

  it('Cancel closes the question without creating anything', async () => {
    vi.mocked(dealGet).mockResolvedValue(
      deal({ create: { allowed: true, again: false, default_type: 'invoice', reason: '' } }),
    );
    const { render, findByTestId, maybeFindByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);
    await waitFor(() => expect(findByTestId(Button, 'create').text).toBe('Create now'));
    findByTestId(Button, 'create').trigger('onClick');
    await waitFor(() => expect(findByTestId(Select, 'document-type').props.value).toBe('invoice'));
    findByTestId(Button, 'create-cancel').trigger('onClick');

    await waitFor(() => expect(maybeFindByTestId(Select, 'document-type')).toBeNull());
    expect(findByTestId(Button, 'create').text).toBe('Create now');
    expect(vi.mocked(dealCreate)).not.toHaveBeenCalled();
  });

  it('after the draft was cancelled in Fortnox, offers Create again and says why (Swedish)', async () => {
    vi.mocked(dealGet).mockResolvedValue(
      deal({
        documents: [{ ...INVOICE, status: 'cancelled', balance: '0.00' }],
        create: { allowed: true, again: true, default_type: 'invoice', reason: '' },
      }),
    );
    const { render, findByTestId, waitFor, mocks } = cardRenderer('sv-se');

    render(<DealDocuments context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'create').text).toBe('Skapa igen'));
    expect(findByTestId(Text, 'create-again-note').text).toBe(
      'Appens senaste dokument för affären makulerades i Fortnox. Skapa igen gör ett nytt.',
    );
    expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Makulerad');
    expect(findByTestId(StatusTag, 'status-invoice-9').props.variant).toBe('default');
    expect(findByTestId(Text, 'kind-invoice-9').text).toBe('Faktura');
    expect(plain(findByTestId(Text, 'balance-invoice-9').text)).toBe('0,00 kr');
    expect(findByTestId(Button, 'refresh').text).toBe('Uppdatera från Fortnox');
  });

  it('Refresh from Fortnox reads the documents and polls while the service is busy', async () => {
    vi.useFakeTimers();
    vi.mocked(dealGet).mockResolvedValue(
      deal({ documents: [{ ...INVOICE, status: 'unpaid', balance: '1250.00' }] }),
    );
    vi.mocked(dealSync).mockResolvedValue(
      deal({
        busy: true,
        documents: [{ ...INVOICE, status: 'unpaid', balance: '1250.00' }],
        outcome: {
          action: 'sync',
          status: 'running',
          message: 'Fortnox is slow; reading in the background.',
          fix: '',
        },
      }),
    );
    const { render, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);
    await waitFor(() => expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Unpaid'));
    vi.mocked(dealGet)
      .mockReset()
      .mockResolvedValue(deal({ documents: [INVOICE] }));

    findByTestId(Button, 'refresh').trigger('onClick');

    await waitFor(() => expect(findByTestId(Alert, 'outcome').props.title).toBe('Still working'));
    expect(vi.mocked(dealSync)).toHaveBeenCalledWith(BASE, mocks.context);
    expect(findByTestId(Button, 'refresh').props.disabled).toBe(true);
    await vi.advanceTimersByTimeAsync(3000);
    await waitFor(() => expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Paid'));
    expect(vi.mocked(dealGet)).toHaveBeenCalledTimes(1);
    expect(findByTestId(Button, 'refresh').props.disabled).toBe(false);
    await vi.advanceTimersByTimeAsync(9000);
    expect(vi.mocked(dealGet)).toHaveBeenCalledTimes(1);
  });

  it('a user without the role sees the documents, and every button disabled with why', async () => {
    vi.mocked(dealGet).mockResolvedValue(
      deal({ can_act: false, documents: [INVOICE], last_run: FAILED_RUN }),
    );
    const { render, findAll, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);

    await waitFor(() => expect(findByTestId(Button, 'replay').props.disabled).toBe(true));
    expect(findAll(Button).map(button => [button.props.testId, button.props.disabled])).toEqual([
      ['create', true],
      ['replay', true],
      ['refresh', true],
    ]);
    expect(findByTestId(Text, 'only-allowed').text).toBe(
      'Only super admins and the users allowed on the settings page may use these buttons.',
    );
    expect(findByTestId(StatusTag, 'status-invoice-9').text).toBe('Paid');
  });

  it('without Fortnox, says so and links to the settings page', async () => {
    vi.mocked(dealGet).mockResolvedValue(
      deal({
        state: 'not_connected',
        create: { allowed: false, again: false, default_type: 'invoice', reason: '' },
      }),
    );
    const { render, findAll, findByTestId, waitFor, mocks } = cardRenderer('en-us');

    render(<DealDocuments context={mocks.context} />);

    await waitFor(() =>
      expect(findByTestId(Alert, 'not-connected').props.title).toBe('Fortnox is not connected'),
    );
    expect(findByTestId(Link, 'settings-link').props.href).toEqual({
      url: `${BASE}/settings/`,
      external: true,
    });
    expect(findAll(Button)).toEqual([]);
  });

  it('says so when the service cannot be reached', async () => {
    vi.mocked(dealGet).mockRejectedValue(
      new Error('the app is not installed in this HubSpot account'),
    );
    const { render, find, waitFor, mocks } = cardRenderer('sv-se');

    render(<DealDocuments context={mocks.context} />);

    await waitFor(() => expect(find(ErrorState).props.title).toBe('Appen kunde inte nås'));
    expect(
      find(ErrorState)
        .findAll(Text)
        .map(text => text.text),
    ).toEqual([
      'the app is not installed in this HubSpot account',
      'Försök igen om några minuter.',
    ]);
  });
});
