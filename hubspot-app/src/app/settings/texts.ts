// The component's words in English and Swedish, by the HubSpot user's locale.
const en = {
  loading: 'Reading the connection…',
  unreachableTitle: 'The app could not be reached',
  unreachable: 'Try again in a few minutes.',
  noBaseUrl: 'The project profile has no PUBLIC_BASE_URL.',
  fortnox: 'Fortnox',
  connectedTo: 'Connected to',
  notConnected: 'Not connected',
  explain:
    'Pipelines, products, customers, field mappings, runs and history are on the settings page. ' +
    'Super admins and the users they allow can change them; everyone else sees them read-only.',
  open: 'Open settings',
};

const sv: typeof en = {
  loading: 'Läser anslutningen…',
  unreachableTitle: 'Appen kunde inte nås',
  unreachable: 'Försök igen om några minuter.',
  noBaseUrl: 'Projektprofilen saknar PUBLIC_BASE_URL.',
  fortnox: 'Fortnox',
  connectedTo: 'Ansluten till',
  notConnected: 'Inte ansluten',
  explain:
    'Pipelines, produkter, kunder, fältmappningar, körningar och historik finns på ' +
    'inställningssidan. Superadministratörer och de användare de ger behörighet kan ändra dem; ' +
    'alla andra ser dem utan att kunna ändra.',
  open: 'Öppna inställningar',
};

export type Texts = typeof en;

export function textsFor(locale: string): Texts {
  return locale.toLowerCase().startsWith('sv') ? sv : en;
}
