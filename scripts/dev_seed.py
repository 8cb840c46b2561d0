"""`make run`'s seeding: once the sandbox and the web server answer, install the app in the
sandbox portal, connect the sandbox Fortnox company, add the deal pipeline to the sync and
create a demo deal, then print how to click through it. Safe to run again: what exists is kept.

It then waits (honcho stops every process when one exits) until Ctrl-C.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
MARKER = ROOT / "var" / "dev-seed.json"
sys.path.insert(0, str(ROOT))

from sandbox.driver import (  # noqa: E402
    HUB,
    DriveError,
    Portal,
    World,
    browser_connect_fortnox,
    browser_install,
)


def wait_for(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise DriveError(f"{url} did not answer within {timeout:.0f}s")


def manage(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def deal_can_move(deal: dict) -> bool:
    """Whether moving the deal to Closed won would still make a document: it is not there yet
    and no earlier run made one (a deal of a previous `make run` may have been moved already)."""
    properties = deal.get("properties") or {}
    return properties.get("dealstage") not in ("closedwon", "closedlost") and not properties.get(
        "fortnox_document_number"
    )


def seed(world: World) -> str:
    wait_for(f"{world.hubspot}/_sandbox/app")
    wait_for(f"{world.fortnox}/_sandbox/companies")
    wait_for(f"{world.app}/healthz")
    world.app_configure()
    status = subprocess.run(
        [sys.executable, "manage.py", "sync_status", str(HUB)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    installed = status.returncode == 0 and "Fortnox company" in status.stdout
    if not installed:
        with requests.Session() as browser:
            browser_install(world, browser)
            browser_connect_fortnox(world, browser)
        print(
            manage(
                "sync_pipeline_add",
                str(HUB),
                "default",
                "--stage",
                "closedwon",
                "--label",
                "Sales Pipeline",
            ),
            flush=True,
        )
    portal = Portal(world)
    if MARKER.exists():
        deal = json.loads(MARKER.read_text())["deal"]
        try:
            if deal_can_move(portal.record("deals", deal)):
                return deal
        except DriveError:
            pass  # the sandbox lost its state: make the deal again
    company = portal.create("companies", {"name": "Demo Kund AB", "domain": "demokund.se"})
    deal = portal.deal(
        [
            {"name": "Article one", "quantity": "2", "price": "100", "hs_sku": "1"},
            {
                "name": "Article one, discounted",
                "quantity": "1",
                "price": "250",
                "hs_sku": "1",
                "hs_discount_percentage": "10",
            },
            {"name": "Article one, again", "quantity": "5", "price": "20", "hs_sku": "1"},
        ],
        company=company,
        name="Demo: three line items",
    )
    MARKER.write_text(json.dumps({"deal": deal}))
    return deal


def main() -> int:
    world = World(
        app=os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        hubspot=os.environ.get("HUBSPOT_API_BASE", "http://127.0.0.1:8202"),
        fortnox=os.environ.get("FORTNOX_API_BASE", "http://127.0.0.1:8201"),
    )
    try:
        deal = seed(world)
    except (DriveError, requests.RequestException, subprocess.CalledProcessError) as exc:
        print(f"seeding the sandbox failed: {exc}", flush=True)
    else:
        deal_page = f"{world.hubspot}/_sandbox/ui/portals/{HUB}/deals/{deal}"
        print(
            "\n".join(
                [
                    f"Ready. Portal {HUB} has the app installed and Fortnox connected.",
                    f"  Settings page (signed in):  {world.app}/dev/sign-in/{HUB}",
                    f"  Demo deal {deal}, as HubSpot shows it:  {deal_page}",
                    "  Move it to Closed Won there (HubSpot sends the webhook); a few seconds",
                    "  later the deal has a note with the invoice, its PDF and its Fortnox link.",
                ]
            ),
            flush=True,
        )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
