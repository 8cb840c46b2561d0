"""Routes and the per-request context the handlers get."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from sandbox.hubspot.http import bad_request_json, missing_scopes

if TYPE_CHECKING:
    from sandbox.hubspot.app import Sandbox
    from sandbox.hubspot.store import Portal

# kind: "api" (Bearer token, rate limits, logged), "search" (like api, 5/s, no rate headers),
# "public" (no token: OAuth endpoints, the consent page, signed file URLs; logged),
# "hapikey" (developer API key or Bearer: workflow-action definitions), "admin" (/_sandbox).


@dataclass
class Route:
    rule: str
    methods: list[str]
    handler: Callable[..., Any]
    kind: str = "api"


class Ctx:
    def __init__(self, sb: Sandbox, request: Request) -> None:
        self.sb = sb
        self.request = request
        self.portal: Portal | None = None
        self.token: dict[str, Any] | None = None
        self._json: Any = None
        self._json_read = False

    @property
    def base_url(self) -> str:
        return self.request.host_url.rstrip("/")

    def json(self, default: Any = None) -> Any:
        if not self._json_read:
            self._json_read = True
            raw = self.request.get_data(cache=True)
            if not raw.strip():
                self._json = default
            else:
                try:
                    self._json = json.loads(raw)
                except ValueError:
                    raise bad_request_json() from None
        return self._json if self._json is not None else default

    def require_scopes(self, *any_of: str) -> None:
        """403 MISSING_SCOPES unless the token has at least one of `any_of`."""
        granted = set(self.token["scopes"]) if self.token else set()
        if not granted.intersection(any_of):
            raise missing_scopes(list(any_of))

    def arg_list(self, name: str) -> list[str]:
        """A multi-valued query parameter, repeated (SDK) or comma-separated (docs)."""
        values: list[str] = []
        for raw in self.request.args.getlist(name):
            values.extend(v.strip() for v in raw.split(",") if v.strip())
        return values
