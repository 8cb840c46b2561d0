"""HubSpot's APIs through the official SDK (hubspot-api-client 12), with `host` from settings.

Every call goes through the shared retry policy (integrations/calls.py): the attempt's deadline,
pacing under the portal's rate limit (110 per 10 s), a fresh token (refreshed once on a 401),
429s repeated with backoff, and 5xx/network errors repeated when repeating is harmless.
Failures become HubSpotError subclasses with a plain message and fix.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import urllib3
from django.conf import settings
from hubspot import Client

from integrations import deadline, ratelimit
from integrations.calls import ApiClient, Call, CallObserver, NoAnswer, Reply, RetryPolicy
from integrations.errors import IntegrationError
from integrations.hubspot.errors import HubSpotError, HubSpotUnavailable, error_for_status
from integrations.hubspot.tokens import hubspot_access_token_get, hubspot_access_token_refresh
from integrations.models import HubSpotInstallation

TIMEOUT_S = (5, 30)  # connect, read

HUBSPOT_POLICY = RetryPolicy(service="HubSpot", rate=ratelimit.HUBSPOT_RATE, timeout=TIMEOUT_S)


def sdk_client(access_token: str | None = None) -> Client:
    """The SDK pointed at HUBSPOT_API_BASE (the sandbox in development and tests).

    `retry=False` turns off urllib3's own retries (3 by default, on connection and read errors):
    our policy is the only one that repeats a call, so the attempt's deadline holds."""
    return Client.create(access_token=access_token, host=settings.HUBSPOT_API_BASE, retry=False)


def hubspot_rate_key(installation: HubSpotInstallation) -> str:
    return ratelimit.hubspot_key(settings.HUBSPOT_APP_ID, installation.hub_id)


def _api_status(exc: Exception) -> int | None:
    """The SDK raises a different ApiException class per API package: match by shape."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) and hasattr(exc, "body") else None


class HubSpotClient(ApiClient):
    policy = HUBSPOT_POLICY
    record_service = "hubspot"

    def __init__(
        self, installation: HubSpotInstallation, *, observer: CallObserver | None = None
    ) -> None:
        super().__init__(rate_key=hubspot_rate_key(installation), observer=observer)
        self.installation_id = installation.pk
        self.hub_id = installation.hub_id
        self._sdk: tuple[str, Client] | None = None

    def _client(self, token: str) -> Client:
        if self._sdk is None or self._sdk[0] != token:
            self._sdk = (token, sdk_client(token))
        return self._sdk[1]

    # -- the vendor's parts of the policy ---------------------------------------------------------
    def _token_get(self) -> str:
        return hubspot_access_token_get(self.installation_id)

    def _token_refresh(self, stale_token: str) -> str:
        return hubspot_access_token_refresh(self.installation_id, stale_token=stale_token)

    def _unreachable(self, failure: NoAnswer) -> IntegrationError:
        return HubSpotUnavailable(
            "HubSpot could not be reached.",
            fix="Wait a few minutes and Replay.",
            service_message=str(failure),
        )

    # -- one SDK call -----------------------------------------------------------------------------
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

        def send(token: str, timeout: tuple[float, float]) -> Reply:
            try:
                result = api(self._client(token))(*args, _request_timeout=timeout, **kwargs)
            except urllib3.exceptions.HTTPError as exc:
                # No connection at all (refused, DNS, connect timeout) means nothing was sent.
                sent = not isinstance(exc, urllib3.exceptions.ConnectTimeoutError)
                raise NoAnswer(exc, sent=sent) from None
            except Exception as exc:
                status = _api_status(exc)
                if status is None:
                    raise
                return Reply(status, getattr(exc, "headers", None) or {}, exc.body)
            return Reply(200, {}, result)

        method, _, path = label.partition(" ")
        reply = self.call_with_policy(
            Call(
                method=method,
                path=path,
                send=send,
                error_for=lambda reply: error_for_status(reply.status, reply.body, what),
                idempotent=idempotent,
            )
        )
        return reply.body


def hubspot_token_info(access_token: str) -> dict[str, Any]:
    """Hub id, user and scopes of a fresh token (GET /oauth/v1/access-tokens/{token})."""
    deadline.time_ensure("HubSpot")
    try:
        info = sdk_client().oauth.access_tokens_api.get(
            access_token, _request_timeout=deadline.timeout_bounded(TIMEOUT_S)
        )
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
