"""The one shape of error the rest of the service sees from HubSpot or Fortnox.

Each carries a plain-English message and the fix for the user, plus the service's own code and
text (Fortnox answers in Swedish: we translate by code and keep the original).
"""

from __future__ import annotations

from django.utils.translation import gettext as _


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


class DeadlineExceeded(IntegrationError):
    """The run attempt's time (its lease) ran out before a call could be made or answered.

    Transient: the run engine tries again in a later attempt with a fresh lease. Raised by the
    adapters themselves, so it works in every worker pool (Celery's time limits do nothing in
    the threads pool)."""

    transient = True

    def __init__(self, service: str, *, waiting: bool = False, service_message: str = "") -> None:
        message = (
            _("The attempt ran out of time waiting for %(service)s; the app tries again.")
            if waiting
            else _("The attempt ran out of time before calling %(service)s; the app tries again.")
        ) % {"service": service}
        super().__init__(
            message, fix=_("Nothing to do: the app tries again."), service_message=service_message
        )
        self.service = service
