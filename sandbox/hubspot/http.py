"""Responses and HubSpot's error bodies (hubspot-api.md §7: status, message, correlationId,
category, errors[]); every handler raises ApiError and app.py turns it into the answer."""

from __future__ import annotations

import json
import uuid
from typing import Any

from werkzeug.wrappers import Response


def correlation_id() -> str:
    return str(uuid.uuid4())


def dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    if data is None:
        return Response(status=status, headers=headers)
    return Response(dumps(data), status=status, mimetype="application/json", headers=headers)


class ApiError(Exception):
    """An answer that is not a success; `body` is sent as JSON (None: no body)."""

    def __init__(
        self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> Response:
        return json_response(self.body, self.status, self.headers)


def error_body(message: str, category: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "status": "error",
        "message": message,
        "correlationId": correlation_id(),
        "category": category,
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def validation_error(message: str, errors: list[dict[str, Any]] | None = None, **extra: Any):
    return ApiError(400, error_body(message, "VALIDATION_ERROR", errors=errors, **extra))


def not_found(message: str, **extra: Any) -> ApiError:
    return ApiError(404, error_body(message, "OBJECT_NOT_FOUND", **extra))


def conflict(message: str) -> ApiError:
    return ApiError(409, error_body(message, "OBJECT_ALREADY_EXISTS"))


def unauthorized(message: str, category: str = "INVALID_AUTHENTICATION") -> ApiError:
    return ApiError(401, error_body(message, category))


def missing_scopes(required: list[str]) -> ApiError:
    return ApiError(
        403,
        error_body(
            "This app hasn't been granted all required scopes to make this call. Read more about "
            "required scopes here: https://developers.hubspot.com/scopes.",
            "MISSING_SCOPES",
            errors=[
                {
                    "message": "One or more of the following scopes are required.",
                    "context": {"requiredGranularScopes": required},
                }
            ],
            links={"scopes": "https://developers.hubspot.com/scopes"},
        ),
    )


def bad_request_json() -> ApiError:
    return ApiError(
        400,
        error_body(
            "Invalid input JSON on line 1, column 1: Cannot build request body", "VALIDATION_ERROR"
        ),
    )


def internal_error(status: int = 500) -> ApiError:
    messages = {
        500: "internal error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    return ApiError(status, error_body(messages.get(status, "error"), "INTERNAL_ERROR"))
