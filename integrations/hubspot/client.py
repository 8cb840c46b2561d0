"""HubSpot's APIs through the official SDK (hubspot-api-client 12), with `host` from settings.

Every call is paced under the portal's rate limit (110 per 10 s), carries a fresh token
(refreshed once on a 401), is retried on 429 with backoff, and on 5xx/network errors when
repeating it is harmless. Failures become HubSpotError subclasses with a plain message and fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import urllib3
from django.conf import settings
from hubspot import Client

from integrations import ratelimit
from integrations.calls import CallObserver, CallRecord, backoff_seconds
from integrations.hubspot.errors import HubSpotError, HubSpotUnavailable, error_for_status
from integrations.hubspot.tokens import hubspot_access_token_get, hubspot_access_token_refresh
from integrations.models import HubSpotInstallation

TIMEOUT_S = (5, 30)
MAX_ATTEMPTS_RATE_LIMITED = 6
MAX_ATTEMPTS_UNAVAILABLE = 4


def sdk_client(access_token: str | None = None) -> Client:
    """The SDK pointed at HUBSPOT_API_BASE (the sandbox in development and tests)."""
    return Client.create(access_token=access_token, host=settings.HUBSPOT_API_BASE)


def _api_status(exc: Exception) -> int | None:
    """The SDK raises a different ApiException class per API package: match by shape."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) and hasattr(exc, "body") else None


class HubSpotClient:
    def __init__(
        self, installation: HubSpotInstallation, *, observer: CallObserver | None = None
    ) -> None:
        self.installation_id = installation.pk
        self.hub_id = installation.hub_id
        self.rate_key = f"hubspot:{settings.HUBSPOT_APP_ID}:{installation.hub_id}"
        self.observer = observer
        self._sdk: tuple[str, Client] | None = None

    def _client(self, token: str) -> Client:
        if self._sdk is None or self._sdk[0] != token:
            self._sdk = (token, sdk_client(token))
        return self._sdk[1]

    def call(
        self,
        what: str,
        label: str,
        api: Callable[[Client], Callable[..., Any]],
        *args: Any,
        idempotent: bool = True,
        **kwargs: Any,
    ) -> Any:
        """Run one SDK call. `what` names the record for error messages ("deal 123"), `label`
        the request for the step log ("GET /crm/v3/objects/deals/{id}")."""
        token = hubspot_access_token_get(self.installation_id)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            waited = ratelimit.pace(self.rate_key, ratelimit.HUBSPOT_RATE)
            started = time.monotonic()
            try:
                result = api(self._client(token))(*args, _request_timeout=TIMEOUT_S, **kwargs)
            except urllib3.exceptions.HTTPError as exc:
                self._record(label, None, started, attempt, type(exc).__name__, waited)
                if not idempotent or attempt >= MAX_ATTEMPTS_UNAVAILABLE:
                    raise HubSpotUnavailable(
                        "HubSpot could not be reached.",
                        fix="Wait a few minutes and Replay.",
                        service_message=type(exc).__name__,
                    ) from None
                time.sleep(backoff_seconds(attempt, 0.5, 8))
                continue
            except Exception as exc:
                status = _api_status(exc)
                if status is None:
                    raise
                self._record(label, status, started, attempt, "", waited)
                if status == 401 and not refreshed:
                    token = hubspot_access_token_refresh(self.installation_id, stale_token=token)
                    refreshed = True
                    continue
                retry_rate = status == 429 and attempt < MAX_ATTEMPTS_RATE_LIMITED
                retry_5xx = status >= 500 and idempotent and attempt < MAX_ATTEMPTS_UNAVAILABLE
                if retry_rate or retry_5xx:
                    time.sleep(backoff_seconds(attempt, 1.0, 10.0))
                    continue
                raise error_for_status(status, exc.body, what) from None
            self._record(label, 200, started, attempt, "", waited)
            return result

    def _record(
        self,
        label: str,
        status: int | None,
        started: float,
        attempt: int,
        error: str,
        waited: float,
    ) -> None:
        if self.observer:
            method, _, path = label.partition(" ")
            self.observer(
                CallRecord(
                    "hubspot",
                    method,
                    path,
                    status,
                    int((time.monotonic() - started) * 1000),
                    attempt,
                    error,
                    int(waited * 1000),
                )
            )


def hubspot_token_info(access_token: str) -> dict[str, Any]:
    """Hub id, user and scopes of a fresh token (GET /oauth/v1/access-tokens/{token})."""
    try:
        info = sdk_client().oauth.access_tokens_api.get(access_token, _request_timeout=TIMEOUT_S)
    except urllib3.exceptions.HTTPError as exc:
        raise HubSpotUnavailable(
            "HubSpot did not answer.",
            fix="Try installing again.",
            service_message=type(exc).__name__,
        ) from None
    except Exception as exc:
        status = _api_status(exc)
        if status is None:
            raise
        raise HubSpotError(
            "HubSpot did not confirm the new authorisation.",
            fix="Try installing again.",
            status=status,
        ) from None
    return info.to_dict()
