"""The OAuth 2 token call both services share, through authlib; each vendor gives its parts.

The vendors differ in how the client authenticates (Fortnox: HTTP Basic; HubSpot: the form
body), in quirks of their answers (a compliance hook, e.g. HubSpot's BAD_REFRESH_TOKEN), and in
what a refusal means to the user (Fortnox: reconnect; HubSpot: the app was uninstalled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from integrations import deadline
from integrations.errors import IntegrationError

TOKEN_TIMEOUT_S = (5, 20)  # connect, read


@dataclass(frozen=True)
class OAuthProvider:
    service: str  # as users read it: "Fortnox"
    client_id: str
    client_secret: str
    token_url: str
    redirect_uri: str
    token_endpoint_auth_method: str  # "client_secret_basic" | "client_secret_post"
    #: The error for a refused grant (invalid_grant, invalid_client): only the user can fix it.
    refused: Callable[[OAuthError], IntegrationError]
    #: The error class for no usable answer (network, garbage): worth trying again.
    unavailable_error: type[IntegrationError]
    #: authlib compliance hooks: {"refresh_token_response": fix, ...}
    compliance_hooks: dict[str, Callable[[requests.Response], requests.Response]] = field(
        default_factory=dict
    )

    def session(self, scope: str | None = None) -> OAuth2Session:
        # The scope goes only on the consent URL: authlib would add it to refresh requests too.
        session = OAuth2Session(
            client_id=self.client_id,
            client_secret=self.client_secret,
            token_endpoint_auth_method=self.token_endpoint_auth_method,
            redirect_uri=self.redirect_uri,
            scope=scope,
        )
        for hook, fix in self.compliance_hooks.items():
            session.register_compliance_hook(hook, fix)
        return session

    def unavailable(self, exc: Exception) -> IntegrationError:
        return self.unavailable_error(
            f"{self.service}'s sign-in service did not answer.",
            fix="Wait a few minutes and try again.",
            service_message=type(exc).__name__,
        )


def token_call(provider: OAuthProvider, grant_type: str, **kwargs: Any) -> dict[str, Any]:
    """One call to the token endpoint (code exchange or refresh), within the attempt's deadline.

    Raises the provider's `refused` error for an OAuth error answer and its `unavailable` error
    when no usable answer came."""
    deadline.time_ensure(provider.service)
    timeout = deadline.timeout_bounded(TOKEN_TIMEOUT_S)
    session = provider.session()
    try:
        if grant_type == "refresh_token":
            token = session.refresh_token(provider.token_url, timeout=timeout, **kwargs)
        else:
            token = session.fetch_token(
                provider.token_url, grant_type=grant_type, timeout=timeout, **kwargs
            )
        return dict(token)
    except OAuthError as exc:
        raise provider.refused(exc) from None
    except (requests.RequestException, ValueError) as exc:
        raise provider.unavailable(exc) from None
