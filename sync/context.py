"""What a run carries through its steps, and the failure a user can act on."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.fortnox.client import FortnoxClient
from integrations.hubspot.client import HubSpotClient
from integrations.models import HubSpotInstallation
from sync.models import Run, SyncSettings


class RunFailure(Exception):
    """The run cannot create the document until the user changes something."""

    def __init__(
        self, message: str, fix: str, *, code: str = "", service_message: str = ""
    ) -> None:
        super().__init__(message)
        self.message, self.fix, self.code, self.service_message = (
            message,
            fix,
            code,
            service_message,
        )


@dataclass
class RunContext:
    run: Run
    installation: HubSpotInstallation
    settings: SyncSettings
    mappings: dict[str, dict[str, str]]
    hubspot: HubSpotClient
    fortnox: FortnoxClient
    fortnox_tenant: str = ""

    def info(self, message: str) -> None:
        self.run.steps.create(kind="info", attempt=self.run.attempts, message=message)
