// The app cards' calls to the service: the one module that calls hubspot.fetch, so tests can
// stand in for it (HubSpot's testing utilities do not mock hubspot.fetch). HubSpot signs each
// request (X-HubSpot-Signature-v3) and appends its own values (appId, portalId, userId,
// userEmail, …); the card adds the record it is on from its context, and the service trusts only
// values inside the signed URL. The answers follow the card JSON contract (hubspot-app/README.md).
import { hubspot } from '@hubspot/ui-extensions';
import type { CrmContext } from '@hubspot/ui-extensions';

export type StatusCode =
  'draft' | 'booked' | 'sent' | 'unpaid' | 'paid' | 'overdue' | 'credited' | 'cancelled';

export interface Outcome {
  action: 'update' | 'sync' | 'create' | 'replay';
  status: 'succeeded' | 'failed' | 'running';
  message: string;
  fix: string;
}

export interface FortnoxDocument {
  kind: 'invoice' | 'order';
  number: string;
  date: string | null;
  due_date: string | null;
  total: string;
  balance: string;
  currency: string;
  status: StatusCode;
  url: string;
  invoice?: FortnoxDocument | null;
}

interface CardStateBase {
  can_act: boolean;
  busy: boolean;
  settings_url: string;
  message: string;
  fix: string;
  outcome: Outcome | null;
}

export interface CustomerCardState extends CardStateBase {
  kind: 'customer';
  state: 'ready' | 'not_connected' | 'no_customer' | 'not_synced';
  customer: { number: string; name: string; url: string } | null;
  figures: {
    currency: string;
    total_invoiced: string;
    balance: string;
    overdue: string;
    synced_at: string | null;
  } | null;
  invoices: FortnoxDocument[];
}

export interface LastRun {
  id: number;
  kind: string;
  status: string;
  trigger: string;
  finished_at: string | null;
  message: string;
  fix: string;
  can_replay: boolean;
}

export interface DealCardState extends CardStateBase {
  kind: 'deal';
  state: 'ready' | 'not_connected';
  documents: FortnoxDocument[];
  last_run: LastRun | null;
  create: {
    allowed: boolean;
    again: boolean;
    default_type: 'invoice' | 'order';
    reason: string;
  };
}

export type DocumentType = 'invoice' | 'order';

export type CardPath =
  'record' | 'record/update' | 'record/sync' | 'deal' | 'deal/create' | 'deal/replay' | 'deal/sync';

// hubspot.fetch allows 15 s at most. Reads come from the service's own database; the buttons do
// their work within this time or answer `busy` and finish in the background.
const GET_TIMEOUT_MS = 10000;
const POST_TIMEOUT_MS = 15000;

/** The error the service (or HubSpot's proxy) answered, in words the card can show. */
export class ServiceError extends Error {
  status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'ServiceError';
    this.status = status;
  }
}

/** `${baseUrl}/hubspot/cards/<path>?portalId=…&objectType=…&objectId=…&userId=…&locale=…` */
export function cardUrl(baseUrl: string, context: CrmContext, path: CardPath): string {
  const query = new URLSearchParams({
    portalId: String(context.portal.id),
    objectType: String(context.crm.objectTypeId),
    objectId: String(context.crm.objectId),
    userId: String(context.user.id),
    locale: context.user.locale || context.user.language || '',
  });
  return `${baseUrl.replace(/\/$/, '')}/hubspot/cards/${path}?${query.toString()}`;
}

// What an error answer says: 403 {"error", "message"}, 400 {"errors": {field: [...]}},
// 401/404 {"error"}; anything else (HubSpot's proxy, a gateway) by its status.
async function errorOf(response: Response): Promise<ServiceError> {
  let text = '';
  try {
    const body = (await response.json()) as {
      message?: string;
      error?: string;
      errors?: Record<string, string[]>;
    };
    if (body.message) {
      text = body.message;
    } else if (body.errors) {
      text = Object.entries(body.errors)
        .map(([field, problems]) => `${field}: ${[problems].flat().join(' ')}`)
        .join('; ');
    } else if (body.error) {
      text = body.error;
    }
  } catch {
    // Not JSON: the status says enough.
  }
  return new ServiceError(response.status, text || `The service answered ${response.status}.`);
}

async function call<T>(
  baseUrl: string,
  context: CrmContext,
  path: CardPath,
  body?: Record<string, unknown>,
): Promise<T> {
  const response = await hubspot.fetch(
    cardUrl(baseUrl, context, path),
    body === undefined
      ? { method: 'GET', timeout: GET_TIMEOUT_MS }
      : { method: 'POST', timeout: POST_TIMEOUT_MS, body },
  );
  if (!response.ok) {
    throw await errorOf(response);
  }
  return (await response.json()) as T;
}

// Contacts and companies.
export function recordGet(baseUrl: string, context: CrmContext): Promise<CustomerCardState> {
  return call(baseUrl, context, 'record');
}

export function recordUpdate(baseUrl: string, context: CrmContext): Promise<CustomerCardState> {
  return call(baseUrl, context, 'record/update', {});
}

export function recordSync(baseUrl: string, context: CrmContext): Promise<CustomerCardState> {
  return call(baseUrl, context, 'record/sync', {});
}

// Deals.
export function dealGet(baseUrl: string, context: CrmContext): Promise<DealCardState> {
  return call(baseUrl, context, 'deal');
}

export function dealCreate(
  baseUrl: string,
  context: CrmContext,
  documentType: DocumentType,
): Promise<DealCardState> {
  return call(baseUrl, context, 'deal/create', { document_type: documentType });
}

export function dealReplay(
  baseUrl: string,
  context: CrmContext,
  runId: number,
): Promise<DealCardState> {
  return call(baseUrl, context, 'deal/replay', { run_id: runId });
}

export function dealSync(baseUrl: string, context: CrmContext): Promise<DealCardState> {
  return call(baseUrl, context, 'deal/sync', {});
}
