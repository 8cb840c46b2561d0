"""The end-to-end helpers live in sandbox/driver.py (shared with make demo and the benchmark)."""

from sandbox.driver import (  # noqa: F401
    FORTNOX_COMPANY,
    FORTNOX_NO_ORDER_COMPANY,
    HUB,
    OTHER_HUB,
    DriveError,
    Portal,
    World,
    browser_connect_fortnox,
    browser_install,
    csrf_token,
    visible_text,
)


def webhook_events_decided(timeout: float = 30) -> None:
    """Wait until a worker decided every webhook event the app stored: the receiver answers once
    the events are stored, and a worker decides what they lead to (sync/webhooks.py). A test
    that asserts an event's outcome, or that it started nothing, waits for this after HubSpot's
    deliveries drained."""
    import time

    from sync.models import WebhookEvent

    deadline = time.monotonic() + timeout
    while WebhookEvent.objects.filter(outcome=WebhookEvent.UNDECIDED).exists():
        assert time.monotonic() < deadline, "webhook events still undecided: is a worker running?"
        time.sleep(0.1)
