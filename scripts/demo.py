"""`make demo`: a HubSpot deal becomes a draft Fortnox invoice, end to end, on this machine.

Starts the sandbox (HubSpot and Fortnox simulators), the web server and a worker on free ports,
on the embedded default (SQLite and the file broker under var/demo, started afresh), then acts
as the user: installs the app in a sandbox portal, connects a sandbox Fortnox company, adds the
deal pipeline to the sync, creates a deal with three line items and drags it to "Closed won".
HubSpot's sandbox sends the signed webhook; the worker creates the invoice and the note. The
last line printed is one JSON object with the outcome. Exits non-zero if anything failed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sandbox.driver import (  # noqa: E402
    FORTNOX_COMPANY,
    HUB,
    DriveError,
    Portal,
    World,
    browser_connect_fortnox,
    browser_install,
    visible_text,
)
from scripts.processes import (  # noqa: E402
    BIN,
    Processes,
    free_port,
    sandbox_command,
    web_command,
    worker_command,
)

VAR = ROOT / "var" / "demo"
TIMEOUT_S = 90


def say(text: str) -> None:
    print(text, flush=True)


def wait_until(what: str, probe, processes: Processes, timeout: float = TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if exited := processes.exited():
            raise DriveError(exited)
        try:
            result = probe()
        except requests.RequestException:
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise DriveError(f"timed out after {timeout:.0f}s waiting for {what}")


def main() -> int:
    shutil.rmtree(VAR, ignore_errors=True)
    VAR.mkdir(parents=True)
    web_port, fortnox_port, hubspot_port = free_port(), free_port(), free_port()
    world = World(
        app=f"http://127.0.0.1:{web_port}",
        hubspot=f"http://127.0.0.1:{hubspot_port}",
        fortnox=f"http://127.0.0.1:{fortnox_port}",
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        CLOUDIFY_ENV="development",
        VAR_DIR=str(VAR),
        PUBLIC_BASE_URL=world.app,
        HUBSPOT_API_BASE=world.hubspot,
        HUBSPOT_APP_BASE=world.hubspot,
        FORTNOX_API_BASE=world.fortnox,
        FORTNOX_AUTH_BASE=world.fortnox,
        LOG_LEVEL=env.get("LOG_LEVEL", "INFO"),
        PYTHONPATH=str(ROOT),
    )
    python = str(BIN / "python")
    say("Preparing a fresh database (SQLite) and broker (files) under var/demo ...")
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )

    processes = Processes(VAR, env)
    try:
        processes.start("sandbox", sandbox_command(fortnox_port, hubspot_port))
        processes.start("web", web_command(web_port, workers=2, threads=4))
        processes.start("worker", worker_command(concurrency=2, loglevel="INFO"))
        wait_until(
            "the sandbox",
            lambda: (
                requests.get(f"{world.hubspot}/_sandbox/app", timeout=2).ok
                and requests.get(f"{world.fortnox}/_sandbox/companies", timeout=2).ok
            ),
            processes,
        )
        wait_until(
            "the web server and the worker",
            lambda: requests.get(f"{world.app}/readyz?worker=1", timeout=10).ok,
            processes,
        )
        say(
            f"Sandbox: HubSpot on {world.hubspot}, Fortnox on {world.fortnox}. "
            f"Service on {world.app}."
        )
        world.app_configure()

        with requests.Session() as browser:
            page = browser_install(world, browser)
            if page.status_code != 200:
                raise DriveError(
                    f"the install ended with HTTP {page.status_code}: "
                    f"{visible_text(page.text)[:300]}"
                )
            say(f"Installed the app in HubSpot portal {HUB} and signed in to its settings page.")
            page = browser_connect_fortnox(world, browser)
            if page.status_code != 200:
                raise DriveError(
                    f"connecting Fortnox ended with HTTP {page.status_code}: "
                    f"{visible_text(page.text)[:300]}"
                )
            company = next(
                c
                for c in world.fortnox_admin("GET", "/_sandbox/companies")
                if c["id"] == FORTNOX_COMPANY
            )
            say(f"Connected Fortnox company {company['name']} ({company['organisation_number']}).")
        added = subprocess.run(
            [
                python,
                "manage.py",
                "sync_pipeline_add",
                str(HUB),
                "default",
                "--stage",
                "closedwon",
                "--document",
                "invoice",
                "--label",
                "Sales Pipeline",
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        say(added.stdout.strip())

        portal = Portal(world)
        for sku, name in (
            ("CONSULT-H", "Consulting hour"),
            ("LIC-YEAR", "Licence, one year"),
            ("ONBOARD", "Onboarding"),
        ):
            response = portal.fortnox_api(
                "POST", "articles", json={"Article": {"ArticleNumber": sku, "Description": name}}
            )
            if response.status_code != 201:
                raise DriveError(
                    f"creating Fortnox article {sku}: {response.status_code} {response.text}"
                )
        customer = portal.create("companies", {"name": "Demo Kund AB", "domain": "demokund.se"})
        deal = portal.deal(
            [
                {
                    "name": "Consulting hour",
                    "quantity": "12",
                    "price": "1150",
                    "product": {"name": "Consulting hour", "hs_sku": "CONSULT-H", "price": "1150"},
                },
                {
                    "name": "Licence, one year",
                    "quantity": "3",
                    "price": "4990",
                    "hs_discount_percentage": "10",
                    "product": {"name": "Licence, one year", "hs_sku": "LIC-YEAR", "price": "4990"},
                },
                {
                    "name": "Onboarding",
                    "quantity": "1",
                    "price": "7500",
                    "product": {"name": "Onboarding", "hs_sku": "ONBOARD", "price": "7500"},
                },
            ],
            company=customer,
            name="Demo Kund AB – yearly licence",
        )
        say(
            f"Created deal {deal} for Demo Kund AB with three line items; "
            "moving it to Closed won ..."
        )
        portal.move(deal)

        def finished():
            # The deal's properties and the note are separate deliveries: wait for both.
            status = portal.record("deals", deal)["properties"].get("fortnox_status")
            done = status in ("created", "failed") and portal.notes(deal)
            return status if done else None

        status = wait_until("the run to finish (the note on the deal)", finished, processes)
        notes = portal.notes(deal)
        note = notes[-1] if notes else None
        text = visible_text(note["properties"]["hs_note_body"]) if note else "(no note)"
        say(f"The note on the deal says: {text}")
        if status != "created":
            raise DriveError("the run failed; the note above says why")
        number = portal.record("deals", deal)["properties"]["fortnox_document_number"]
        invoice = portal.fortnox_record("invoices", number)
        attachment = (note["properties"].get("hs_attachment_ids") or "").split(";")[0]
        pdf_bytes = (
            world.hubspot_admin("GET", f"/_sandbox/files/{attachment}")["size"] if attachment else 0
        )
        say(
            f"Fortnox now holds draft invoice {number} for {invoice['CustomerName']}: "
            f"{len(invoice['InvoiceRows'])} rows, total {invoice['Total']} {invoice['Currency']} "
            f"(booked: {invoice['Booked']}, sent: {invoice['Sent']}); its PDF ({pdf_bytes} bytes) "
            "is attached to the note."
        )
        # What the service sent to each API, for ../shared/tools' request audits.
        for name, base in (("fortnox", world.fortnox), ("hubspot", world.hubspot)):
            log = requests.get(f"{base}/_sandbox/requests", timeout=30).json()
            (VAR / f"{name}-requests.json").write_text(json.dumps(log, indent=1))
        print(
            json.dumps(
                {
                    "deal": deal,
                    "document_type": "invoice",
                    "document_number": number,
                    "total": str(invoice["Total"]),
                    "note_id": str(note["id"]),
                    "pdf_bytes": pdf_bytes,
                }
            ),
            flush=True,
        )
        return 0
    except (DriveError, subprocess.CalledProcessError, requests.RequestException) as exc:
        say(f"make demo failed: {exc}")
        say(f"Logs: {VAR}/sandbox.log, web.log, worker.log")
        return 1
    finally:
        processes.stop()


if __name__ == "__main__":
    sys.exit(main())
