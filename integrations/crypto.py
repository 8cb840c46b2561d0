"""Tokens encrypted at rest with the keys in FIELD_ENCRYPTION_KEYS.

MultiFernet encrypts with the first (newest) key and decrypts with any of them, so a new key
can be put in front and the stored values re-encrypted later (`manage.py reencrypt_tokens`).
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 "
            'bytes). Generate one with: python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        ) from None


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored token cannot be decrypted with any key in FIELD_ENCRYPTION_KEYS: a key "
            "that is still in use was removed. Put it back (after the new key)."
        ) from None


def rotate(ciphertext: str) -> str:
    """Re-encrypt under the newest key (decrypting with whichever key matches)."""
    return fernet().rotate(ciphertext.encode()).decode()


class EncryptedTextField(models.TextField):
    """Holds a secret; the database only ever sees Fernet ciphertext. Empty stays empty."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return decrypt(value)

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value in (None, ""):
            return value
        return encrypt(str(value))
