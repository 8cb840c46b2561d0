"""The one place the service reads its environment.

Every setting goes through `env`, which converts and validates the value and fails loudly,
naming the variable, when a value is malformed or when a secret is missing in production.
Production is the default (``CLOUDIFY_ENV`` unset), so a deployment that forgets a secret
refuses to start instead of running with a development default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

ENVIRONMENTS = ("production", "development", "test")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_UNSET: Any = object()


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        name = self._environ.get("CLOUDIFY_ENV", "production").strip().lower()
        if name not in ENVIRONMENTS:
            raise ImproperlyConfigured(
                f"CLOUDIFY_ENV={name!r} is not one of {', '.join(ENVIRONMENTS)}; "
                "set it to 'production' (the default) or 'development'."
            )
        self.name = name

    @property
    def is_production(self) -> bool:
        return self.name == "production"

    def require_in_production(self, keys: list[str]) -> None:
        """Refuse to start in production while any of `keys` is unset, naming every one."""
        if not self.is_production:
            return
        missing = [key for key in keys if not self._environ.get(key)]
        if missing:
            raise ImproperlyConfigured(
                "Missing environment variable"
                + ("s " if len(missing) > 1 else " ")
                + ", ".join(missing)
                + ": required in production (CLOUDIFY_ENV=production, "
                "the default). See 'Configuration' in README.md; for a local run use "
                "CLOUDIFY_ENV=development or `make run`."
            )

    def _raw(self, key: str, default: Any, dev_default: Any) -> Any:
        value = self._environ.get(key)
        if value is not None and value != "":
            return value
        if dev_default is not _UNSET and not self.is_production:
            return dev_default
        if default is _UNSET:
            raise ImproperlyConfigured(
                f"Missing environment variable {key}: it is required "
                f"{'in production' if self.is_production else 'here'}. "
                "See 'Configuration' in README.md for what to set it to."
            )
        return default

    def str(self, key: str, default: Any = _UNSET, *, dev_default: Any = _UNSET) -> Any:
        """A string. Without `default` it is required; `dev_default` applies outside production."""
        return self._raw(key, default, dev_default)

    def bool(self, key: str, default: Any = _UNSET, *, dev_default: Any = _UNSET) -> bool:
        value = self._raw(key, default, dev_default)
        if isinstance(value, bool):
            return value
        lowered = str(value).strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{key}={value!r} is not a boolean; use true or false.")

    def int(
        self,
        key: str,
        default: Any = _UNSET,
        *,
        dev_default: Any = _UNSET,
        minimum: int | None = None,
        meaning: str = "",
    ) -> int:
        """A whole number; with `minimum`, a smaller one is refused, saying what the setting
        means (`meaning`) and its default."""
        value = self._raw(key, default, dev_default)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ImproperlyConfigured(f"{key}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise ImproperlyConfigured(
                f"{key}={number}: set it to {minimum} or more ({meaning}), or leave it unset "
                f"for {default}."
            )
        return number

    def list(self, key: str, default: Any = _UNSET, *, dev_default: Any = _UNSET) -> list[str]:
        """Comma-separated values, blanks dropped, order kept."""
        value = self._raw(key, default, dev_default)
        if isinstance(value, list):
            return value
        return [item.strip() for item in str(value).split(",") if item.strip()]

    def url(
        self,
        key: str,
        default: Any = _UNSET,
        *,
        dev_default: Any = _UNSET,
        https_in_production: bool = False,
    ) -> str:
        """An origin or base URL, without a trailing slash."""
        value = str(self._raw(key, default, dev_default)).rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ImproperlyConfigured(
                f"{key}={value!r} is not a URL; it must start with https:// (or http:// "
                "outside production)."
            )
        if https_in_production and self.is_production and not value.startswith("https://"):
            raise ImproperlyConfigured(f"{key} must be an https:// URL in production.")
        return value


env = Env()
