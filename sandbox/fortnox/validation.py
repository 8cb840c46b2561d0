"""Request-body checks: wrapper, field names, kinds, lengths, enums, the allowed characters."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from sandbox.fortnox import errors
from sandbox.fortnox.errors import bad_request
from sandbox.fortnox.fields import FIELDS

# Fortnox's allowed characters (fortnox-api.md, FX-formats), as a regex:
#   [\p{L}\’\\\x{0308}\x{030a}a-zåäöéáœæøüA-ZÅÄÖÉÁÜŒÆØ0-9 –:\.`´’,;\^¤#%§£$€¢¥©™°&
#    \/\(\)=\+\-\*_\!?²³®½\@\x{00a0}\n\r]*
# i.e. any letter, ASCII digits and the listed signs. Not allowed: ' " < > [ ] { } | ~ tab.
_EXTRA = set("’\\\u0308\u030a0123456789 –:.`´,;^¤#%§£$€¢¥©™°&/()=+-*_!?²³®½@\u00a0\n\r")


def bad_characters(text: str) -> list[str]:
    return [ch for ch in text if not (ch in _EXTRA or ch.isalpha())]


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: Any, field: str) -> str:
    if not isinstance(value, str) or not _DATE.match(value):
        raise bad_request(errors.INVALID_VALUE, f"Ogiltigt datum ({field}: {value})")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise bad_request(errors.INVALID_VALUE, f"Ogiltigt datum ({field}: {value})") from None
    return value


def as_number(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise bad_request(errors.NOT_NUMERIC, f"Värdet måste vara numeriskt ({field})")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip().replace(",", "."))
        except ValueError:
            pass
    raise bad_request(errors.NOT_NUMERIC, f"Värdet måste vara numeriskt ({field})")


def as_bool(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value in (0, 1):
        return bool(value)
    raise bad_request(errors.NOT_BOOLEAN, f"Värdet måste vara en boolean ({field})")


def unwrap(body: Any, wrapper: str) -> dict[str, Any]:
    """{"Customer": {...}} -> {...}; anything else is Fortnox's 2001392."""
    if not isinstance(body, dict) or wrapper not in body or not isinstance(body[wrapper], dict):
        raise bad_request(errors.BAD_DATA, "Ingen eller felaktig typ av data.")
    extra = [k for k in body if k != wrapper]
    if extra:
        raise bad_request(errors.BAD_FIELD, f"Felaktigt fältnamn ({extra[0]})")
    return body[wrapper]


def check_fields(entity: str, obj: dict[str, Any], nested: dict[str, str] | None = None) -> None:
    """Names, kinds, lengths, enums and characters of every field sent for an entity.

    nested maps a list- or object-valued field to the entity of its items (InvoiceRows ->
    InvoiceRow, EmailInformation -> EmailInformation)."""
    rules = FIELDS[entity]
    nested = nested or {}
    for name, value in obj.items():
        if name not in rules:
            raise bad_request(errors.BAD_FIELD, f"Felaktigt fältnamn ({name})")
        kind, min_len, max_len, enum = rules[name]
        if value is None:
            continue
        if name in nested:
            sub = nested[name]
            items = value if isinstance(value, list) else [value]
            if kind == "array" and not isinstance(value, list):
                raise bad_request(errors.BAD_DATA, f"Ingen eller felaktig typ av data. ({name})")
            for item in items:
                if not isinstance(item, dict):
                    raise bad_request(
                        errors.BAD_DATA, f"Ingen eller felaktig typ av data. ({name})"
                    )
                check_fields(sub, item)
            continue
        if kind in ("array", "object"):
            if not isinstance(value, (list, dict)):
                raise bad_request(errors.BAD_DATA, f"Ingen eller felaktig typ av data. ({name})")
            continue
        if kind in ("number", "integer"):
            as_number(value, name)
            continue
        if kind == "boolean":
            as_bool(value, name)
            continue
        # strings: numbers are accepted and read as text, as the real service does
        if isinstance(value, (dict, list)):
            raise bad_request(errors.BAD_DATA, f"Ingen eller felaktig typ av data. ({name})")
        text = value if isinstance(value, str) else str(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        if bad_characters(text):
            raise bad_request(
                errors.INVALID_CHARS, f"Värdet innehåller ej tillåtna tecken. ({name})"
            )
        if max_len is not None and len(text) > max_len:
            raise bad_request(
                errors.TOO_LONG, f"Värdet är för långt ({name}: högst {max_len} tecken)."
            )
        if min_len and text and len(text) < min_len:
            raise bad_request(
                errors.TOO_LONG, f"Värdet är för kort ({name}: minst {min_len} tecken)."
            )
        if enum and text not in enum:
            raise bad_request(errors.INVALID_VALUE, f"Ogiltigt värde ({name}: {text}).")
