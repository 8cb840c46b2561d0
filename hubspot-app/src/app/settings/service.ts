// The settings component's two calls to the service, through hubspot.fetch. HubSpot signs each
// (X-HubSpot-Signature-v3) and appends portalId, userId and userEmail to the URL; the service
// trusts only those (portals/views_sign_in.py). Kept in one module so tests can stand in for it:
// HubSpot's testing utilities do not mock hubspot.fetch.
import { hubspot } from '@hubspot/ui-extensions';

export interface ConnectionStatus {
  installation: string;
  fortnox: { status: string; company_name: string; organisation_number: string };
  problem: string;
  fix: string;
}

export interface SignInLink {
  url: string;
  expires_in: number;
}

// hubspot.fetch allows 15 s at most; the service answers from its own database.
const TIMEOUT_MS = 10000;

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) {
    throw new Error(`The service answered ${response.status}.`);
  }
  return (await response.json()) as T;
}

export async function connectionStatusGet(baseUrl: string): Promise<ConnectionStatus> {
  const response = await hubspot.fetch(`${baseUrl}/hubspot/settings-status`, {
    method: 'GET',
    timeout: TIMEOUT_MS,
  });
  return json<ConnectionStatus>(response);
}

export async function signInLinkCreate(baseUrl: string, locale: string): Promise<SignInLink> {
  const response = await hubspot.fetch(`${baseUrl}/hubspot/sign-in-link`, {
    method: 'POST',
    timeout: TIMEOUT_MS,
    body: { locale },
  });
  return json<SignInLink>(response);
}
