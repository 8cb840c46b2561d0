"""What a record's fields were when they were last sent to Fortnox, without keeping the values:
a short hash per field ("Name=ab12…;City=…"), stored on the customer and article mappings. A
sync sends only the fields whose hash differs, and nothing when none does."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping


def field_hashes(fields: Mapping[str, object]) -> dict[str, str]:
    """A short hash per field: enough to tell which fields changed, without keeping the
    customer's personal data in our database."""
    return {
        name: hashlib.sha256(f"{name}\0{value}".encode()).hexdigest()[:16]
        for name, value in fields.items()
    }


def fingerprint_of(hashes: Mapping[str, str]) -> str:
    return ";".join(f"{name}={hashes[name]}" for name in sorted(hashes))


def fields_fingerprint(fields: Mapping[str, object]) -> str:
    return fingerprint_of(field_hashes(fields))


def fingerprint_read(text: str) -> dict[str, str]:
    """The hashes of a stored fingerprint, by field."""
    return dict(part.split("=", 1) for part in text.split(";") if "=" in part)
