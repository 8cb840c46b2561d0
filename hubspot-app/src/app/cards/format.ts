// Amounts, dates and times for the user's locale. The service sends amounts as strings with two
// decimals ("12500.00"), dates as "YYYY-MM-DD" and times as ISO 8601 UTC.

function localeTag(locale: string): string {
  // HubSpot sends "en-us", "sv-se" or just "sv"; Intl accepts any case. Unknown tags fall back.
  try {
    return Intl.getCanonicalLocales(locale || 'en')[0] ?? 'en';
  } catch {
    return 'en';
  }
}

/** sv "12 500,00 kr", en "SEK 12,500.00"; an unknown currency code is shown as it came. */
export function money(amount: string | null | undefined, currency: string, locale: string): string {
  if (amount === null || amount === undefined || amount === '') return '–';
  const value = Number(amount);
  if (Number.isNaN(value)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat(localeTag(locale), {
      style: 'currency',
      currency: currency || 'SEK',
      minimumFractionDigits: 2,
      maximumFractionDigits: 2,
    }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

/** A "YYYY-MM-DD" date as the service sent it (Fortnox's own dates have no time zone). */
export function day(value: string | null | undefined): string {
  return value || '–';
}

/** An ISO 8601 time in the portal's time zone, for the user's locale. */
export function moment(
  value: string | null | undefined,
  locale: string,
  timeZone?: string,
): string {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  const options: Intl.DateTimeFormatOptions = { dateStyle: 'medium', timeStyle: 'short' };
  try {
    return new Intl.DateTimeFormat(localeTag(locale), { ...options, timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(localeTag(locale), options).format(date);
  }
}
