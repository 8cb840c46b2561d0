"""Countries as Fortnox wants them (ISO 3166-1 alpha-2) from what HubSpot's free-text country
properties hold: an ISO code, or the country's name in English or Swedish (pycountry's ISO 3166
data and its Swedish translations)."""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache

import pycountry

SWEDEN = "SE"
# EU member states (ISO codes), since 2020-02-01 (the United Kingdom left). Fortnox's VATType
# depends on it (EUREVERSEDVAT/EUVAT inside the EU, EXPORT outside); pycountry has no EU list.
# fmt: off
EU_MEMBERS = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on
# Common names that neither ISO 3166 nor its Swedish translation spell this way.
_ALIASES = {"uk": "GB", "england": "GB", "great britain": "GB", "storbritannien": "GB"}


def _key(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).casefold().split())


@cache
def _swedish_names() -> dict[str, str]:
    swedish = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["sv"])
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for name in (country.name, getattr(country, "common_name", "")):
            if name:
                names[_key(swedish.gettext(name))] = country.alpha_2
    return names


def country_code(value: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of `value`, '' when it is empty, None when it is not a
    country the tables know."""
    key = _key(value or "")
    if not key:
        return ""
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return pycountry.countries.lookup(key).alpha_2
    except LookupError:
        return _swedish_names().get(key)


def vat_type(country: str, vat_number: str) -> str:
    """Fortnox's customer VATType from the country and whether a VAT number is known."""
    if country in ("", SWEDEN):
        return "SEVAT"
    if country in EU_MEMBERS:
        return "EUREVERSEDVAT" if vat_number else "EUVAT"
    return "EXPORT"
