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
