// The cards' own words in English and Swedish, by the HubSpot user's locale. The service's
// messages and fixes arrive already in the user's language; only labels and status codes are
// translated here.
import type { StatusCode } from './service';

const en = {
  loading: 'Reading from Fortnox for HubSpot…',
  errorTitle: 'The app could not be reached',
  errorRetry: 'Try again in a few minutes.',
  noBaseUrl: 'The project profile has no PUBLIC_BASE_URL.',
  actionFailed: 'The button did not work',
  notConnectedTitle: 'Fortnox is not connected',
  notConnected: 'Connect Fortnox on the settings page to see Fortnox figures and documents here.',
  openSettings: 'Open the settings',
  onlyAllowed:
    'Only super admins and the users allowed on the settings page may use these buttons.',
  working: 'Working in the background; this card updates by itself.',
  pending: 'Asking Fortnox…',
  outcomeTitle: {
    succeeded: 'Done',
    failed: 'It did not work',
    running: 'Still working',
  },
  // Customer card
  customer: 'Fortnox customer',
  totalInvoiced: 'Total invoiced',
  balance: 'Unpaid balance',
  overdue: 'Overdue',
  lastSync: 'Last read from Fortnox',
  never: 'never',
  latestInvoices: 'Latest invoices',
  noInvoices: 'This customer has no booked invoices in Fortnox.',
  noCustomerTitle: 'No Fortnox customer yet',
  noCustomer:
    'This record is not linked to a Fortnox customer. Update creates the customer in Fortnox from this record.',
  notSyncedTitle: 'Figures not read yet',
  notSynced:
    "The customer's invoices have not been read from Fortnox yet. Perform Sync reads them now.",
  update: 'Update',
  performSync: 'Perform Sync',
  // Tables
  number: 'Number',
  type: 'Type',
  date: 'Date',
  dueDate: 'Due date',
  total: 'Total',
  remaining: 'Balance',
  status: 'Status',
  // Deal card
  documents: 'Fortnox documents',
  noDocuments: 'This deal has no Fortnox document yet.',
  fromOrder: 'from the order',
  lastRun: 'Last run',
  runStatus: {
    succeeded: 'succeeded',
    failed: 'failed',
    running: 'running',
    queued: 'queued',
  } as Record<string, string>,
  replay: 'Replay',
  refresh: 'Refresh from Fortnox',
  createNow: 'Create now',
  createAgain: 'Create again',
  createAgainNote:
    "The app's last document for this deal was cancelled in Fortnox. Create again makes a new one.",
  documentType: 'Create as',
  createConfirm: 'Create in Fortnox',
  cancel: 'Cancel',
  kinds: { invoice: 'Invoice', order: 'Order' } as Record<string, string>,
  statuses: {
    draft: 'Draft',
    booked: 'Booked',
    sent: 'Sent',
    unpaid: 'Unpaid',
    paid: 'Paid',
    overdue: 'Overdue',
    credited: 'Credited',
    cancelled: 'Cancelled',
  } as Record<StatusCode, string>,
};

const sv: typeof en = {
  loading: 'Läser från Fortnox for HubSpot…',
  errorTitle: 'Appen kunde inte nås',
  errorRetry: 'Försök igen om några minuter.',
  noBaseUrl: 'Projektprofilen saknar PUBLIC_BASE_URL.',
  actionFailed: 'Knappen fungerade inte',
  notConnectedTitle: 'Fortnox är inte anslutet',
  notConnected: 'Anslut Fortnox på inställningssidan för att se Fortnox-siffror och dokument här.',
  openSettings: 'Öppna inställningarna',
  onlyAllowed:
    'Bara superadministratörer och de användare som har behörighet på inställningssidan kan använda knapparna.',
  working: 'Arbetar i bakgrunden; kortet uppdateras av sig självt.',
  pending: 'Frågar Fortnox…',
  outcomeTitle: {
    succeeded: 'Klart',
    failed: 'Det gick inte',
    running: 'Arbetar fortfarande',
  },
  customer: 'Fortnox-kund',
  totalInvoiced: 'Totalt fakturerat',
  balance: 'Obetalt saldo',
  overdue: 'Förfallet',
  lastSync: 'Senast läst från Fortnox',
  never: 'aldrig',
  latestInvoices: 'Senaste fakturor',
  noInvoices: 'Kunden har inga bokförda fakturor i Fortnox.',
  noCustomerTitle: 'Ingen Fortnox-kund än',
  noCustomer:
    'Posten är inte kopplad till någon Fortnox-kund. Uppdatera skapar kunden i Fortnox från posten.',
  notSyncedTitle: 'Siffrorna är inte lästa än',
  notSynced: 'Kundens fakturor har inte lästs från Fortnox än. Synkronisera läser dem nu.',
  update: 'Uppdatera',
  performSync: 'Synkronisera',
  number: 'Nummer',
  type: 'Typ',
  date: 'Datum',
  dueDate: 'Förfallodatum',
  total: 'Totalt',
  remaining: 'Saldo',
  status: 'Status',
  documents: 'Fortnox-dokument',
  noDocuments: 'Affären har inget Fortnox-dokument än.',
  fromOrder: 'från ordern',
  lastRun: 'Senaste körning',
  runStatus: {
    succeeded: 'lyckades',
    failed: 'misslyckades',
    running: 'pågår',
    queued: 'i kö',
  },
  replay: 'Kör igen',
  refresh: 'Uppdatera från Fortnox',
  createNow: 'Skapa nu',
  createAgain: 'Skapa igen',
  createAgainNote:
    'Appens senaste dokument för affären makulerades i Fortnox. Skapa igen gör ett nytt.',
  documentType: 'Skapa som',
  createConfirm: 'Skapa i Fortnox',
  cancel: 'Avbryt',
  kinds: { invoice: 'Faktura', order: 'Order' },
  statuses: {
    draft: 'Utkast',
    booked: 'Bokförd',
    sent: 'Skickad',
    unpaid: 'Obetald',
    paid: 'Betald',
    overdue: 'Förfallen',
    credited: 'Krediterad',
    cancelled: 'Makulerad',
  },
};

export type Texts = typeof en;

export function textsFor(locale: string): Texts {
  return locale.toLowerCase().startsWith('sv') ? sv : en;
}
