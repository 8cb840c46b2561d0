"""What every adapter reports about each HTTP call it makes (feeds a run's step log)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field


@dataclass
class CallRecord:
    service: str
    method: str
    path: str
    status: int | None
    duration_ms: int
    attempt: int
    error: str = ""
    waited_ms: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


CallObserver = Callable[[CallRecord], None]


def backoff_seconds(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with jitter (half fixed, half random), so retries spread out."""
    delay = min(cap, base * 2 ** max(0, attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)
