"""`make bench`: how well the service does its job, measured against the sandbox.

The sandboxes answer with realistic latency (50-150 ms per call) under their real rate limits;
gunicorn and Celery workers run on PostgreSQL and Redis, as in production. Each scenario prints
a table and writes bench/results/<scenario>.json; a summary ends the run. Figures, not tests:
nothing here fails CI. QUICK=1 (or --quick) runs smaller counts in about three minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
VAR = ROOT / "var" / "bench"
# Another checkout's bench can run beside this one on its own database and Redis db.
DB_NAME = os.environ.get("BENCH_DATABASE_NAME", "cloudify_bench")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")
LATENCY = {"min_ms": 50, "max_ms": 150}
DEFAULT_WORKERS = 8  # pool processes of the worker, except in scenario 3
FORTNOX_CALLS_PER_MINUTE = 25 * 60 / 5  # 25 requests per sliding 5 s (fortnox-api.md)

sys.path.insert(0, str(ROOT))
from scripts.processes import (  # noqa: E402
    BIN,
    Processes,
    free_port,
    sandbox_command,
    web_command,
    worker_command,
)

ENV = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "VAR_DIR")} | {
    "CLOUDIFY_ENV": "development",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "VAR_DIR": str(VAR),
    "LOG_LEVEL": "WARNING",
    "PYTHONPATH": str(ROOT),
}


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def table(title: str, rows: list[tuple[Any, ...]], header: tuple[str, ...]) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    print(f"\n== {title}")
    for row in (header, *rows):
        print("  " + "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=False)))


def save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))


# -- the stack: sandbox, web, workers on PostgreSQL and Redis ---------------------------------
class Stack:
    def __init__(self) -> None:
        self.web_port, self.fx_port, self.hs_port = free_port(), free_port(), free_port()
        self.app = f"http://127.0.0.1:{self.web_port}"
        self.hubspot = f"http://127.0.0.1:{self.hs_port}"
        self.fortnox = f"http://127.0.0.1:{self.fx_port}"
        self.env = ENV | {
            "PUBLIC_BASE_URL": self.app,
            "HUBSPOT_API_BASE": self.hubspot,
            "HUBSPOT_APP_BASE": self.hubspot,
            "FORTNOX_API_BASE": self.fortnox,
            "FORTNOX_AUTH_BASE": self.fortnox,
        }
        self.procs = Processes(VAR, self.env)

    def start(self) -> None:
        VAR.mkdir(parents=True, exist_ok=True)
        pg = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["dropdb", *pg, "--if-exists", "--force", DB_NAME], check=True)
        subprocess.run(["createdb", *pg, DB_NAME], check=True)
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        subprocess.run(
            [str(BIN / "python"), "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=self.env,
            check=True,
        )
        self.procs.start("sandbox", sandbox_command(self.fx_port, self.hs_port))
        self.procs.start("web", web_command(self.web_port, workers=4, threads=8))
        self.workers(DEFAULT_WORKERS)
        self._wait(f"{self.hubspot}/_sandbox/app")
        self._wait(f"{self.fortnox}/_sandbox/companies")
        self._wait(f"{self.app}/readyz?worker=1", timeout=90)
        for base in (self.hubspot, self.fortnox):
            requests.post(f"{base}/_sandbox/faults/latency", json=LATENCY, timeout=10)

    def workers(self, concurrency: int) -> None:
        """One worker process with `concurrency` pool processes (each runs one task at a time)."""
        self.procs.stop("worker")
        self.procs.start("worker", worker_command(concurrency, loglevel="WARNING"))
        self._wait(f"{self.app}/readyz?worker=1", timeout=90)

    def _wait(self, url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if exited := self.procs.exited():
                raise RuntimeError(exited)
            try:
                if requests.get(url, timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{url} did not answer")

    def worker_rss_kb(self) -> int:
        """Resident memory of the worker's process tree (main process and pool children)."""
        main = self.procs.running["worker"].pid
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        total = 0
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            ppid = int(fields.get("PPid", "0").strip())
            if int(pid) in (main,) or ppid == main or _parent_is(ppid, main):
                total += int(fields.get("VmRSS", "0 kB").split()[0])
        return total

    def stop(self) -> None:
        self.procs.stop()


def _parent_is(pid: int, ancestor: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("PPid:"):
            return int(line.split()[1]) == ancestor
    return False


# -- tenants and deals ------------------------------------------------------------------------
def django_setup(stack: Stack) -> None:
    """This process reads runs from the database and calls Fortnox like a worker (scenario 5)."""
    for key, value in stack.env.items():
        os.environ[key] = value
    os.environ["DJANGO_SETTINGS_MODULE"] = "cloudify.settings.base"
    import django

    django.setup()


class Tenant:
    def __init__(self, stack: Stack, hub: int, company: str) -> None:
        from sandbox.driver import Portal, World

        self.world = World(app=stack.app, hubspot=stack.hubspot, fortnox=stack.fortnox)
        self.portal = Portal(self.world, hub=hub, company=company)
        self.hub, self.company = hub, company


def tenants_create(stack: Stack, count: int, first_hub: int) -> list[Tenant]:
    from sandbox.driver import World, browser_connect_fortnox, browser_install
    from sync.models import PipelineSetting, SyncSettings

    world = World(app=stack.app, hubspot=stack.hubspot, fortnox=stack.fortnox)
    world.app_configure()
    made = []
    for index in range(count):
        hub = first_hub + index
        if hub != 9000001:
            world.hubspot_admin(
                "POST",
                "/_sandbox/portals",
                json={"hub_id": hub, "name": f"Bench {hub}", "seed": True},
            )
            company = world.fortnox_admin(
                "POST",
                "/_sandbox/companies",
                json={"name": f"Bench {hub} AB", "licences": ["Fa", "Oo", "Ar"]},
            )["id"]
        else:
            company = "1"
        with requests.Session() as browser:
            browser_install(world, browser, hub)
            browser_connect_fortnox(world, browser, hub, company)
        from integrations.models import HubSpotInstallation

        installation = HubSpotInstallation.objects.get(hub_id=hub)
        settings, _ = SyncSettings.objects.get_or_create(installation=installation)
        PipelineSetting.objects.get_or_create(
            settings=settings,
            pipeline_id="default",
            defaults={"trigger_stage_ids": ["closedwon"], "document_type": "invoice"},
        )
        tenant = Tenant(stack, hub, company)
        answer = tenant.portal.fortnox_api(
            "POST",
            "articles",
            json={"Article": {"ArticleNumber": "BENCH-1", "Description": "Bench article"}},
        )
        if answer.status_code not in (201, 400):  # 400: it exists already
            raise RuntimeError(f"article: {answer.status_code} {answer.text}")
        made.append(tenant)
    return made


def deal_create(tenant: Tenant, lines: int) -> str:
    rows = [
        {"name": f"Row {i}", "quantity": "1", "price": "100", "hs_sku": "BENCH-1"}
        for i in range(lines)
    ]
    return tenant.portal.deal(rows)


def runs_wait(deals: list[tuple[str, Tenant]], timeout: float) -> list[Any]:
    """The runs of these deals ((deal id, tenant): ids repeat across portals), once each has
    finished and its note is delivered (or given up), or at the timeout."""
    from sync.models import Delivery, Run

    wanted = {(tenant.hub, deal) for deal, tenant in deals}
    hubs = {tenant.hub for _deal, tenant in deals}
    deadline = time.monotonic() + timeout
    while True:
        runs = [
            r
            for r in Run.objects.filter(
                subject_id__in=[deal for deal, _tenant in deals], installation__hub_id__in=hubs
            ).select_related("installation")
            if (r.installation.hub_id, r.subject_id) in wanted
        ]
        noted = set(
            Delivery.objects.filter(run__in=runs, kind="note")
            .exclude(status="pending")
            .values_list("run_id", flat=True)
        )
        done = [r for r in runs if r.status in ("succeeded", "failed") and r.pk in noted]
        if len(done) >= len(wanted) or time.monotonic() > deadline:
            return runs
        time.sleep(0.5)


def invoices_by_deal(tenants: list[Tenant], runs: list[Any]) -> Counter:
    """How many Fortnox invoices each deal got (by the run's external reference)."""
    reference_to_deal = {r.external_reference: (r.installation.hub_id, r.subject_id) for r in runs}
    counts: Counter = Counter()
    for tenant in tenants:
        for invoice in tenant.portal.fortnox_records("invoices"):
            key = reference_to_deal.get(invoice.get("ExternalInvoiceReference1") or "")
            if key:
                counts[key] += 1
    return counts


def call_counts(runs: list[Any]) -> dict[str, Any]:
    from sync.models import RunStep

    steps = RunStep.objects.filter(run__in=runs, kind="call")
    by_service: Counter = Counter()
    limited: Counter = Counter()
    for step in steps.only("service", "status"):
        by_service[step.service] += 1
        if step.status == 429:
            limited[step.service] += 1
    return {"calls": dict(by_service), "429": dict(limited)}


def waits_by_portal(runs: list[Any], moved_at: dict[tuple[int, str], float]) -> dict:
    """Seconds from each deal's move to its note delivered on the deal (read from the note's
    delivery row), per portal; `moved_at` is keyed by (portal, deal id), as deal ids repeat
    across portals."""
    from sync.models import Delivery

    delivered = dict(
        Delivery.objects.filter(run__in=runs, kind="note", status="delivered").values_list(
            "run_id", "delivered_at"
        )
    )
    waits: dict[int, list[float]] = defaultdict(list)
    for run in runs:
        key = (run.installation.hub_id, run.subject_id)
        if run.pk in delivered and key in moved_at:
            waits[key[0]].append(delivered[run.pk].timestamp() - moved_at[key])
    return waits


# -- scenarios --------------------------------------------------------------------------------
def api_economy(stack: Stack, tenant: Tenant, sizes: list[int]) -> dict[str, Any]:
    from sync.models import RunStep

    rows, data = [], {}
    for index, size in enumerate(sizes):
        deal = deal_create(tenant, size)
        tenant.portal.move(deal)
        [run] = runs_wait([(deal, tenant)], timeout=300)
        steps = list(RunStep.objects.filter(run=run, kind="call"))
        hubspot = sum(1 for s in steps if s.service == "hubspot")
        fortnox = sum(1 for s in steps if s.service == "fortnox")
        batches = -(-size // 100)
        # The minimum for a deal whose line items carry SKUs (no products to read) and whose
        # company is new to Fortnox: HubSpot: the deal with its associations 1, line items
        # ceil(n/100), the company 1, the PDF upload 1, the note 1, the deal's properties 1, the
        # customer number on the company 1, and on the portal's first run its account details
        # 1 (currency, time zone: read once). Fortnox: the article register 1 (a page of 500),
        # the customer lookup 1 (by organisation or VAT number, else by exact name: issue 13's
        # matching rules) and its create 1, the invoice 1, its PDF preview 1.
        minimum_hs, minimum_fx = 6 + batches + (1 if index == 0 else 0), 5
        rows.append((size, run.status, hubspot, minimum_hs, fortnox, minimum_fx))
        data[size] = {
            "status": run.status,
            "hubspot": hubspot,
            "hubspot_min": minimum_hs,
            "fortnox": fortnox,
            "fortnox_min": minimum_fx,
            "paths": [f"{s.service} {s.method} {s.path}" for s in steps],
        }
    table(
        "1. API economy: calls per created invoice",
        rows,
        ("lines", "status", "hubspot", "hubspot min", "fortnox", "fortnox min"),
    )
    save("api_economy", data)
    return data


QUIET_AFTER_S = 15  # into the burst, each other tenant moves one deal


def burst(stack: Stack, tenant: Tenant, deals: int, quiet: list[Tenant]) -> dict[str, Any]:
    """One tenant's deals all at once; QUIET_AFTER_S later, one deal of each other tenant, whose
    wait shows whether the busy tenant starves them."""
    ids = [deal_create(tenant, 3) for _ in range(deals)]
    quiet_ids = [(deal_create(other, 3), other) for other in quiet]
    peak = {"rss_kb": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss_kb"] = max(peak["rss_kb"], stack.worker_rss_kb())
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    moved_at = {}
    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        for deal in ids:
            moved_at[(tenant.hub, deal)] = time.time()
            pool.submit(tenant.portal.move, deal)
    time.sleep(max(0.0, started + QUIET_AFTER_S - time.time()))
    quiet_moved = {}
    for deal, other in quiet_ids:
        quiet_moved[(other.hub, deal)] = time.time()
        other.portal.move(deal)
    runs = runs_wait([(deal, tenant) for deal in ids], timeout=3600)
    stop.set()
    quiet_runs = runs_wait(quiet_ids, timeout=600)
    quiet_waits = [w for ws in waits_by_portal(quiet_runs, quiet_moved).values() for w in ws]
    elapsed = max((r.finished_at.timestamp() for r in runs if r.finished_at), default=started)
    elapsed -= started
    calls = call_counts(runs)
    succeeded = [r for r in runs if r.status == "succeeded"]
    fortnox_per_doc = calls["calls"].get("fortnox", 0) / max(1, len(succeeded))
    from integrations.ratelimit import FORTNOX_RATE

    bound = FORTNOX_CALLS_PER_MINUTE / max(fortnox_per_doc, 1)
    # The service's own pace stays under Fortnox's limit by design (integrations/ratelimit.py).
    paced = FORTNOX_RATE.per_second * 60 / max(fortnox_per_doc, 1)
    throughput = len(succeeded) / (elapsed / 60) if elapsed else 0
    waits = waits_by_portal(runs, moved_at)[tenant.hub]
    counts = invoices_by_deal([tenant], runs)
    total_calls = sum(calls["calls"].values())
    data = {
        "deals": deals,
        "succeeded": len(succeeded),
        "failed": sum(1 for r in runs if r.status == "failed"),
        "missing": deals - len(runs),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "elapsed_s": round(elapsed, 1),
        "docs_per_min": round(throughput, 1),
        "fortnox_calls_per_doc": round(fortnox_per_doc, 2),
        "bound_docs_per_min": round(bound, 1),
        "ratio": round(throughput / bound, 2) if bound else 0,
        "paced_bound_docs_per_min": round(paced, 1),
        "ratio_to_paced": round(throughput / paced, 2) if paced else 0,
        "share_429": round(sum(calls["429"].values()) / max(1, total_calls), 4),
        "p50_s": round(pct(waits, 50), 1),
        "p95_s": round(pct(waits, 95), 1),
        "max_s": round(max(waits, default=0), 1),
        "worker_peak_rss_mb": round(peak["rss_kb"] / 1024, 1),
        "other_tenants": len(quiet),
        "other_tenants_succeeded": sum(1 for r in quiet_runs if r.status == "succeeded"),
        "other_tenants_p50_s": round(pct(quiet_waits, 50), 1),
        "other_tenants_max_s": round(max(quiet_waits, default=0), 1),
    }
    table("2. Burst on one tenant", list(data.items()), ("figure", "value"))
    save("burst", data)
    return data


def many_tenants(stack: Stack, tenants: list[Tenant], per: int, workers: list[int]) -> dict:
    results = {}
    for count in workers:
        stack.workers(count)
        ids: list[tuple[str, Tenant]] = []
        for tenant in tenants:
            for _ in range(per):
                ids.append((deal_create(tenant, 2), tenant))
        moved_at = {}
        started = time.time()
        with ThreadPoolExecutor(16) as pool:
            for deal, tenant in ids:
                moved_at[(tenant.hub, deal)] = time.time()
                pool.submit(tenant.portal.move, deal)
        runs = runs_wait(ids, timeout=3600)
        end = max((r.finished_at.timestamp() for r in runs if r.finished_at), default=started)
        per_tenant = waits_by_portal(runs, moved_at)
        p95s = [pct(v, 95) for v in per_tenant.values()]
        median = statistics.median(p95s) if p95s else 0
        results[count] = {
            "runs": len(runs),
            "succeeded": sum(1 for r in runs if r.status == "succeeded"),
            "docs_per_min": round(len(runs) / ((end - started) / 60), 1) if end > started else 0,
            "tenant_p95_median_s": round(median, 1),
            "tenant_p95_worst_s": round(max(p95s), 1),
            "worst_over_median": round(max(p95s) / median, 2) if median else 0,
        }
    table(
        f"3. Many tenants: {len(tenants)} portals × {per} deals",
        [(w, *r.values()) for w, r in results.items()],
        ("workers", "runs", "succeeded", "docs/min", "p95 median s", "p95 worst s", "worst/med"),
    )
    save("many_tenants", results)
    stack.workers(DEFAULT_WORKERS)
    return results


def _signed_post(stack: Stack, session: requests.Session, body: str) -> float:
    from sandbox.hubspot.signing import signed_headers

    url = f"{stack.app}/hubspot/webhooks"
    headers = signed_headers(
        "webhook", "sandbox-hubspot-secret", "POST", url, body, int(time.time() * 1000)
    )
    started = time.perf_counter()
    answer = session.post(
        url, data=body, timeout=30, headers={**headers, "Content-Type": "application/json"}
    )
    if answer.status_code != 204:
        raise RuntimeError(f"webhook answered {answer.status_code}: {answer.text[:200]}")
    return time.perf_counter() - started


def webhook_ack(stack: Stack, hub: int, requests_per_thread: int) -> dict[str, Any]:
    webhook, trivial = [], []
    counter = iter(range(10**9))
    lock = threading.Lock()

    def client() -> None:
        with requests.Session() as session:
            for _ in range(requests_per_thread):
                with lock:
                    n = next(counter)
                body = json.dumps(
                    [
                        {
                            "eventId": n + 1,  # HubSpot numbers events from 1
                            "subscriptionId": 1,
                            "portalId": hub,
                            "appId": 1001,
                            "occurredAt": int(time.time() * 1000) + n,
                            "subscriptionType": "contact.propertyChange",
                            "attemptNumber": 0,
                            "objectId": 100 + n,
                            "propertyName": "email",
                            "propertyValue": f"x{n}@example.se",
                            "changeSource": "CRM",
                        }
                    ]
                )
                webhook.append(_signed_post(stack, session, body))
                started = time.perf_counter()
                session.get(f"{stack.app}/healthz", timeout=30)
                trivial.append(time.perf_counter() - started)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    data = {
        "requests": len(webhook),
        "webhook_p50_ms": round(pct(webhook, 50) * 1000, 1),
        "webhook_p99_ms": round(pct(webhook, 99) * 1000, 1),
        "healthz_p50_ms": round(pct(trivial, 50) * 1000, 1),
        "healthz_p99_ms": round(pct(trivial, 99) * 1000, 1),
    }
    table(
        "4. Webhook acknowledgement (8 clients, ignored events)",
        list(data.items()),
        ("figure", "value"),
    )
    save("webhook_ack", data)
    return data


def faults(
    stack: Stack, tenants: list[Tenant], deliveries: int, drops: int, outage_s: int
) -> dict[str, Any]:
    from integrations.fortnox.client import FortnoxClient
    from integrations.models import FortnoxConnection

    results: dict[str, Any] = {}
    # a. deliveries with 30 % duplicates, shuffled, sent as HubSpot would (signed).
    unique = int(deliveries / 1.3)
    events = []
    deals: list[tuple[str, Tenant]] = []
    for index in range(unique):
        tenant = tenants[index % len(tenants)]
        deal = deal_create(tenant, 1)
        deals.append((deal, tenant))
        events.append(
            {
                "eventId": index + 1,  # HubSpot numbers events from 1
                "subscriptionId": 1,
                "portalId": tenant.hub,
                "appId": 1001,
                "occurredAt": int(time.time() * 1000),
                "subscriptionType": "deal.propertyChange",
                "attemptNumber": 0,
                "objectId": int(deal),
                "propertyName": "dealstage",
                "propertyValue": "closedwon",
                "changeSource": "CRM",
            }
        )
    sent = events + random.sample(events, deliveries - unique)
    random.shuffle(sent)
    with ThreadPoolExecutor(8) as pool, requests.Session() as session:
        list(pool.map(lambda e: _signed_post(stack, session, json.dumps([e])), sent))
    runs = runs_wait(deals, timeout=3600)
    counts = invoices_by_deal(tenants, runs)
    results["duplicated_deliveries"] = {
        "deliveries": len(sent),
        "expected": unique,
        "created": sum(counts.values()),
        "duplicated": sum(c - 1 for c in counts.values() if c > 1),
        "lost": unique - len(counts),
        "failed_runs": sum(1 for r in runs if r.status == "failed"),
        "runs": len(runs),
    }
    # b. commit-then-drop on creates.
    ids = []
    for index in range(drops):
        tenant = tenants[index % len(tenants)]
        ids.append((deal_create(tenant, 1), tenant))
    requests.post(
        f"{stack.fortnox}/_sandbox/faults/commit-then-drop",
        json={"count": drops, "path_prefix": "/3/invoices"},
        timeout=10,
    )
    for deal, tenant in ids:
        tenant.portal.move(deal)
    runs = runs_wait(ids, timeout=3600)
    counts = invoices_by_deal(tenants, runs)
    results["commit_then_drop"] = {
        "expected": drops,
        "created": sum(counts.values()),
        "duplicated": sum(c - 1 for c in counts.values() if c > 1),
        "lost": drops - len(counts),
        "failed_runs": sum(1 for r in runs if r.status == "failed"),
    }
    requests.delete(f"{stack.fortnox}/_sandbox/faults", timeout=10)
    requests.post(f"{stack.fortnox}/_sandbox/faults/latency", json=LATENCY, timeout=10)
    # c. 20 callers on one expired token (separate database connections).
    from django.db import connections

    connection = FortnoxConnection.objects.filter(status="connected").first()
    stats = requests.get(f"{stack.fortnox}/_sandbox/tokens/stats", timeout=10).json()
    before = stats["token_calls"].get("refresh_token", 0)
    requests.post(f"{stack.fortnox}/_sandbox/faults/expire-tokens", timeout=10)
    from django.utils import timezone

    FortnoxConnection.objects.filter(pk=connection.pk).update(
        access_token_expires_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    outcomes: list[bool] = []
    errors: list[str] = []

    def caller() -> None:
        try:
            FortnoxClient(connection).company_information()
            outcomes.append(True)
        except Exception as exc:  # counted and shown
            outcomes.append(False)
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=caller) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = requests.get(f"{stack.fortnox}/_sandbox/tokens/stats", timeout=10).json()
    results["expired_token_20_callers"] = {
        "succeeded": sum(outcomes),
        "failed": outcomes.count(False),
        "refresh_calls": stats["token_calls"].get("refresh_token", 0) - before,
        "first_error": errors[0] if errors else "",
    }
    # d. Fortnox answers 503 for `outage_s` seconds in the middle of a burst.
    ids = []
    for index in range(max(10, drops)):
        tenant = tenants[index % len(tenants)]
        ids.append((deal_create(tenant, 1), tenant))
    for deal, tenant in ids[: len(ids) // 2]:
        tenant.portal.move(deal)
    requests.post(
        f"{stack.fortnox}/_sandbox/faults/fail-next",
        json={"count": 10**7, "status": 503, "path_prefix": "/3/"},
        timeout=10,
    )
    time.sleep(2)
    for deal, tenant in ids[len(ids) // 2 :]:
        tenant.portal.move(deal)
    time.sleep(max(0, outage_s - 2))
    requests.delete(f"{stack.fortnox}/_sandbox/faults", timeout=10)
    requests.post(f"{stack.fortnox}/_sandbox/faults/latency", json=LATENCY, timeout=10)
    runs = runs_wait(ids, timeout=3600)
    counts = invoices_by_deal(tenants, runs)
    results["fortnox_503_outage"] = {
        "outage_s": outage_s,
        "expected": len(ids),
        "created": sum(counts.values()),
        "duplicated": sum(c - 1 for c in counts.values() if c > 1),
        "lost": len(ids) - len(counts),
        "failed_runs": sum(1 for r in runs if r.status == "failed"),
        "max_attempts": max((r.attempts for r in runs), default=0),
    }
    table(
        "5. Faults",
        [(k, ", ".join(f"{a}={b}" for a, b in v.items())) for k, v in results.items()],
        ("fault", "figures"),
    )
    save("faults", results)
    return results


SCENARIOS = ("economy", "burst", "tenants", "ack", "faults")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", default=os.environ.get("QUICK") == "1")
    parser.add_argument(
        "--only",
        default=os.environ.get("ONLY", ""),
        help=f"comma-separated scenarios to run, of {','.join(SCENARIOS)} (default: all)",
    )
    args = parser.parse_args()
    quick = args.quick
    wanted = {name.strip() for name in args.only.split(",") if name.strip()} or set(SCENARIOS)
    unknown = wanted - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario {', '.join(sorted(unknown))}: use {', '.join(SCENARIOS)}")
    size = {
        "economy": [1, 5, 20, 60],
        "burst": 20 if quick else 500,
        "tenants": 4 if quick else 20,
        "per_tenant": 2 if quick else 4,
        "workers": [1, 2, 4],
        "ack_per_thread": 50 if quick else 500,
        "deliveries": 26 if quick else 1000,
        "drops": 4 if quick else 50,
        "outage_s": 15 if quick else 120,
    }
    running = ",".join(name for name in SCENARIOS if name in wanted)
    print(f"make bench ({'QUICK' if quick else 'full'}, {running}): {json.dumps(size)}", flush=True)
    started = time.monotonic()
    stack = Stack()
    try:
        stack.start()
        django_setup(stack)
        [main_tenant] = tenants_create(stack, 1, 9000001)
        summary: dict[str, Any] = {}
        economy = api_economy(stack, main_tenant, size["economy"]) if "economy" in wanted else {}
        for lines, figures in economy.items():
            summary[f"economy {lines} lines: hubspot/fortnox calls"] = (
                f"{figures['hubspot']}/{figures['fortnox']} "
                f"(min {figures['hubspot_min']}/{figures['fortnox_min']})"
            )
        others = tenants_create(stack, size["tenants"] - 1, 9100001)
        b = burst(stack, main_tenant, size["burst"], others) if "burst" in wanted else None
        summary |= (
            {}
            if b is None
            else {
                f"burst {size['burst']}: docs/min (bound)": (
                    f"{b['docs_per_min']} ({b['bound_docs_per_min']})"
                ),
                "burst: ratio to bound": b["ratio"],
                "burst: service's pace (docs/min), ratio to it": (
                    f"{b['paced_bound_docs_per_min']}, {b['ratio_to_paced']}"
                ),
                "burst: 429 share of calls": b["share_429"],
                "burst: p50/p95/max s webhook→note": f"{b['p50_s']}/{b['p95_s']}/{b['max_s']}",
                "burst: failed / duplicates / missing": (
                    f"{b['failed']}/{b['duplicates']}/{b['missing']}"
                ),
                "worker peak RSS MB (burst)": b["worker_peak_rss_mb"],
                f"burst: {b['other_tenants']} other tenants' one deal each, moved "
                f"{QUIET_AFTER_S} s in: succeeded, p50/max s": (
                    f"{b['other_tenants_succeeded']}, "
                    f"{b['other_tenants_p50_s']}/{b['other_tenants_max_s']}"
                ),
            }
        )
        tenants = [main_tenant, *others]
        many = (
            many_tenants(stack, tenants, size["per_tenant"], size["workers"])
            if "tenants" in wanted
            else {}
        )
        for workers, figures in many.items():
            summary[f"tenants ×{len(tenants)}, {workers} workers: docs/min, worst/median p95"] = (
                f"{figures['docs_per_min']}, {figures['worst_over_median']}"
            )
        if "ack" in wanted:
            ack = webhook_ack(stack, 9000001, size["ack_per_thread"])
            summary["webhook ack p50/p99 ms (healthz)"] = (
                f"{ack['webhook_p50_ms']}/{ack['webhook_p99_ms']} "
                f"({ack['healthz_p50_ms']}/{ack['healthz_p99_ms']})"
            )
        f = (
            faults(stack, tenants, size["deliveries"], size["drops"], size["outage_s"])
            if "faults" in wanted
            else {}
        )
        for name, figures in f.items():
            summary[f"fault {name}"] = ", ".join(f"{k}={v}" for k, v in figures.items())
        summary["reconciliation differences"] = reconciliation_differences()
        summary["total minutes"] = round((time.monotonic() - started) / 60, 1)
        table("Summary", list(summary.items()), ("figure", "value"))
        save("summary", summary)
        return 0
    finally:
        stack.stop()


def reconciliation_differences() -> str:
    """Differences between Fortnox's documents and their deals over every succeeded run of the
    bench (sync/reconcile.py): must be 0; runs without a check (none expected) are named."""
    from sync.models import Run

    runs = Run.objects.filter(status=Run.Status.SUCCEEDED)
    count = sum(
        len(r.reconciliation_differences or [])
        for r in runs.only("pk", "reconciliation_differences")
    )
    unchecked = sum(
        1
        for r in runs.only("pk", "data_read")
        if "differences" not in r.data_read.get("outcome", {})
    )
    return f"{count}" + (f" ({unchecked} runs unchecked)" if unchecked else "")


if __name__ == "__main__":
    sys.exit(main())
