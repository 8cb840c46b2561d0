// The cards' one module that calls hubspot.fetch (cards/service.ts): the URLs it builds from the
// card's context, the bodies it sends and how it reads the service's error answers. HubSpot's
// runtime hands hubspot.fetch to `self.hsFetch` in its worker; here a stub stands in for that.
import { createRenderer } from '@hubspot/ui-extensions/testing';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  cardUrl,
  dealCreate,
  dealGet,
  dealReplay,
  dealSync,
  recordGet,
  recordSync,
  recordUpdate,
  ServiceError,
} from '../src/app/cards/service';

const BASE = 'https://fortnox-hubspot.example';
const hsFetch = vi.fn();

function context(objectTypeId: string, objectId: number, locale = 'sv-se') {
  const { mocks } = createRenderer('crm.record.tab');
  mocks.context.portal.id = 4711;
  mocks.context.user.id = 77;
  mocks.context.user.locale = locale;
  mocks.context.crm = { objectId, objectTypeId };
  return mocks.context;
}

function answer(status: number, body: unknown) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

beforeEach(() => {
  hsFetch.mockReset();
  vi.stubGlobal('self', { hsFetch });
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('cards service', () => {
  it('names the record, the user and the locale in every URL', () => {
    expect(cardUrl(`${BASE}/`, context('0-2', 501), 'record')).toBe(
      `${BASE}/hubspot/cards/record?portalId=4711&objectType=0-2&objectId=501&userId=77&locale=sv-se`,
    );
    expect(cardUrl(BASE, context('0-3', 9001, 'en-us'), 'deal/replay')).toBe(
      `${BASE}/hubspot/cards/deal/replay?portalId=4711&objectType=0-3&objectId=9001&userId=77&locale=en-us`,
    );
  });

  it('reads with GET and acts with POST and a JSON body, within 15 s', async () => {
    hsFetch.mockImplementation(async () => answer(200, { kind: 'customer', state: 'ready' }));
    const contact = context('0-1', 12);
    const company = context('0-2', 13);
    const aDeal = context('0-3', 14);

    await recordGet(BASE, contact);
    await recordUpdate(BASE, company);
    await recordSync(BASE, contact);
    await dealGet(BASE, aDeal);
    await dealCreate(BASE, aDeal, 'order');
    await dealReplay(BASE, aDeal, 42);
    await dealSync(BASE, aDeal);

    const calls = hsFetch.mock.calls.map(([url, options]) => [
      String(url).replace(BASE, '').replace(/\?.*/, ''),
      options.method,
      options.body,
    ]);
    expect(calls).toEqual([
      ['/hubspot/cards/record', 'GET', undefined],
      ['/hubspot/cards/record/update', 'POST', {}],
      ['/hubspot/cards/record/sync', 'POST', {}],
      ['/hubspot/cards/deal', 'GET', undefined],
      ['/hubspot/cards/deal/create', 'POST', { document_type: 'order' }],
      ['/hubspot/cards/deal/replay', 'POST', { run_id: 42 }],
      ['/hubspot/cards/deal/sync', 'POST', {}],
    ]);
    expect(String(hsFetch.mock.calls[1][0])).toContain('objectType=0-2&objectId=13');
    for (const [, options] of hsFetch.mock.calls) {
      expect(options.timeout).toBeGreaterThan(0);
      expect(options.timeout).toBeLessThanOrEqual(15000);
    }
  });

  it("turns the service's error answers into the words the card shows", async () => {
    const aDeal = context('0-3', 14);
    hsFetch.mockResolvedValueOnce(
      answer(403, {
        error: 'forbidden',
        message: 'Only super admins and the users they allow may use the card buttons.',
      }),
    );
    await expect(dealSync(BASE, aDeal)).rejects.toEqual(
      new ServiceError(403, 'Only super admins and the users they allow may use the card buttons.'),
    );
    hsFetch.mockResolvedValueOnce(
      answer(400, { errors: { document_type: ['"offer" is not a valid choice.'] } }),
    );
    await expect(dealCreate(BASE, aDeal, 'invoice')).rejects.toThrow(
      'document_type: "offer" is not a valid choice.',
    );
    hsFetch.mockResolvedValueOnce(
      answer(404, { error: 'the app is not installed in this HubSpot account' }),
    );
    await expect(dealGet(BASE, aDeal)).rejects.toThrow(
      'the app is not installed in this HubSpot account',
    );
    hsFetch.mockResolvedValueOnce(new Response('<html>Bad gateway</html>', { status: 502 }));
    await expect(dealGet(BASE, aDeal)).rejects.toThrow('The service answered 502.');
  });
});
