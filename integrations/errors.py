"""The one shape of error the rest of the service sees from HubSpot or Fortnox.

Each carries a plain-English message and the fix for the user, plus the service's own code and
text (Fortnox answers in Swedish: we translate by code and keep the original).
"""

from __future__ import annotations


class IntegrationError(Exception):
    service = "integration"
    #: Worth trying again later (rate limit, outage); not the user's data or settings.
    transient = False

    def __init__(
        self,
        message: str,
        *,
        fix: str = "",
        code: str | int | None = None,
        service_message: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = str(code) if code is not None else ""
        self.service_message = service_message
        self.status = status

    def __str__(self) -> str:
        parts = [self.message]
        if self.code or self.service_message:
            parts.append(f"({self.service} {self.code} {self.service_message})".replace("  ", " "))
        return " ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "service": self.service,
            "error": type(self).__name__,
            "message": self.message,
            "fix": self.fix,
            "code": self.code,
            "service_message": self.service_message,
            "status": self.status,
        }
