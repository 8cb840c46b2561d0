"""`make bench`: how well the service does its job, measured against the sandbox.

The sandboxes answer with realistic latency (50-150 ms per call) under their real rate limits;
gunicorn and Celery workers run on PostgreSQL and Redis, as in production. Each scenario prints
a table and writes bench/results/<scenario>.json; a summary ends the run. Figures, not tests:
nothing here fails CI. QUICK=1 (or --quick) runs smaller counts in about three minutes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import socket
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
DEFAULT_WORKERS = 8  # threads of the worker (its pool), except in scenarios 3 and 3b
FORTNOX_CALLS_PER_MINUTE = 25 * 60 / 5  # 25 requests per sliding 5 s (fortnox-api.md)
HUBSPOT_CALLS_PER_MINUTE = (
    110 * 60 / 10
)  # 110 requests per rolling 10 s per portal (hubspot-api.md)
MACHINE_WORKERS = 4  # threads of each "machine" in the scale-out scenario

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
    # Database connections kept for a minute, as in production (the development default, 0,
    # opens one per request: 20-30 ms on this machine, paid by every webhook and not by
    # /healthz, which touches no database).
    "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
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
        """One worker process with `concurrency` threads (each runs one task at a time)."""
        self.procs.stop("worker")
        self.procs.start("worker", worker_command(concurrency, loglevel="WARNING"))
        self._wait(f"{self.app}/readyz?worker=1", timeout=90)

    def machine_start(self, name: str, concurrency: int) -> None:
        """Another worker started apart, as on a second machine: its own process tree and node
        name, the same database and Redis (so the Fortnox pace is shared through REDIS_URL)."""
        node = f"{name}@{socket.gethostname()}"
        args = worker_command(concurrency, loglevel="WARNING") + ["-n", node]
        self.procs.start(name, args)
        from cloudify.celery import app

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # ready once it answers on the broker by its name
            if exited := self.procs.exited():
                raise RuntimeError(exited)
            if app.control.ping(destination=[node], timeout=1):
                return
        raise RuntimeError(f"{name} did not answer on the broker within 90 s")

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
        self._product = ""

    def product(self) -> str:
        """A HubSpot product whose SKU is the article BENCH-1 (made once per tenant)."""
        if not self._product:
            self._product = self.portal.create(
                "products", {"name": "Bench product", "hs_sku": "BENCH-1", "price": "100"}
            )
        return self._product


def tenants_create(stack: Stack, count: int, first_hub: int) -> list[Tenant]:
    from billing.models import Plan, PortalPlan
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
        # A plan whose quota no bench reaches: the default (Free, 10 a month) would fail all but
        # the first ten documents of each portal with quota_exceeded (billing/quota.py).
        plan, _ = Plan.objects.get_or_create(
            code="bench", defaults={"name": "Bench", "monthly_quota": 10**9}
        )
        PortalPlan.objects.update_or_create(installation=installation, defaults={"plan": plan})
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


def deal_create(tenant: Tenant, lines: int, company: str | None = None, shape: str = "sku") -> str:
    """A deal of `lines` line items for `company` (None: a new company, named "Kund <n> AB").

    Shapes: "sku", each line item carries its name, price and `hs_sku` (BENCH-1, an article
    that exists in Fortnox): no product is read; "product", each line item carries only a link
    to a product (`hs_product_id`), its quantity and price: the product (name, SKU) is read."""
    if shape == "product":
        product = tenant.product()
        rows = [{"hs_product_id": product, "quantity": "1", "price": "100"} for _ in range(lines)]
    else:
        rows = [
            {"name": f"Row {i}", "quantity": "1", "price": "100", "hs_sku": "BENCH-1"}
            for i in range(lines)
        ]
    if company is None:  # a name of its own: "Kund AB" each time would match the first by name
        company = tenant.portal.create("companies", {"name": f"Kund {next(_NAMES)} AB"})
    return tenant.portal.deal(rows, company=company)


_NAMES = itertools.count(1)


def repeat_customers(tenant: Tenant, count: int) -> list[str]:
    """`count` companies that are Fortnox customers of the tenant already: each gets one deal,
    run to its note, so the next deals find the customer mapped (and BENCH-1 exists)."""
    companies = [
        tenant.portal.create("companies", {"name": f"Stamkund {tenant.hub}-{i} AB"})
        for i in range(count)
    ]
    deals = [(deal_create(tenant, 1, company), tenant) for company in companies]
    for deal, _tenant in deals:
        tenant.portal.move(deal)
    runs = runs_wait(deals, timeout=900)
    ok = sum(1 for r in runs if r.status == "succeeded")
    if ok != count:
        raise RuntimeError(f"repeat customers: {ok} of {count} first deals succeeded")
    return companies


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
        # And everything else it tells HubSpot (the deal's properties land a moment after the
        # note: they are batched), so the calls counted are all of the run's.
        unsettled = set(
            Delivery.objects.filter(run__in=runs, status="pending").values_list("run_id", flat=True)
        )
        done = [
            r
            for r in runs
            if r.status in ("succeeded", "failed") and r.pk in noted and r.pk not in unsettled
        ]
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


BATCH_UPDATE = "/batch/update"


def _batch_calls(stack: Stack, hub: int) -> int:
    """The batch updates HubSpot received from the app for the portal since its request log
    was cleared: one batch call carries several runs' deal properties and is a step of each."""
    log = requests.get(f"{stack.hubspot}/_sandbox/requests", timeout=60).json()
    return sum(
        1
        for entry in log
        if entry.get("portal") == hub
        and entry.get("method") == "POST"
        and entry["path"].endswith(BATCH_UPDATE)
    )


def call_counts(runs: list[Any], batch_calls: int | None = None) -> dict[str, Any]:
    """Calls per service from the runs' steps. A batch update is a step of every run it carried:
    with `batch_calls` (the real number, from HubSpot's request log) those steps count as that
    many calls instead."""
    from sync.models import RunStep

    steps = RunStep.objects.filter(run__in=runs, kind="call")
    by_service: Counter = Counter()
    limited: Counter = Counter()
    for step in steps.only("service", "status", "path"):
        if batch_calls is not None and step.path.endswith(BATCH_UPDATE):
            continue
        by_service[step.service] += 1
        if step.status == 429:
            limited[step.service] += 1
    if batch_calls is not None:
        by_service["hubspot"] += batch_calls
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
    """Calls per created invoice for a new customer, then for a repeat customer (mapped in
    Fortnox, its articles existing) in both deal shapes (deal_create: "sku", "product")."""
    from sync.models import RunStep

    rows, data = [], {}
    cases = [("new", "sku", size) for size in sizes]
    cases += [("repeat", shape, size) for shape in ("sku", "product") for size in sizes]
    repeat_company = ""
    for index, (customer, shape, size) in enumerate(cases):
        deal = deal_create(tenant, size, repeat_company if customer == "repeat" else None, shape)
        tenant.portal.move(deal)
        [run] = runs_wait([(deal, tenant)], timeout=300)
        if index == 0:  # the first deal's company is the repeat customer of the later rows
            repeat_company = _deal_company(tenant, deal)
        steps = list(RunStep.objects.filter(run=run, kind="call"))
        hubspot = sum(1 for s in steps if s.service == "hubspot")
        fortnox = sum(1 for s in steps if s.service == "fortnox")
        batches = -(-size // 100)
        if customer == "new":
            # The minimum for a company new to Fortnox (bench/README.md): HubSpot: the deal with
            # its associations 1, line items ceil(n/100), the company 1, the PDF upload 1, the
            # note 1, the deal's properties 1, the customer number on the company 1, and on the
            # portal's first run its account details 1 (kept for a day). Fortnox: the customer
            # lookup 1 (by organisation or VAT number, else by exact name: the matching rules)
            # and its create 1, the invoice 1, its PDF preview 1; no article register (the SKU
            # goes onto the row).
            minimum_hs, minimum_fx = 6 + batches + (1 if index == 0 else 0), 4
        else:
            # Issue 18's targets for a repeat customer: HubSpot: the deal 1, line items
            # ceil(n/100), the company 1 (always read: a stale address costs more than a call),
            # the PDF upload 1, the note 1, the deal's properties 1. A line item made from a
            # product carries the product's name and SKU (HubSpot copies them), so the product
            # shape reads no product either. Fortnox: the invoice 1 and its PDF 1.
            minimum_hs = 5 + batches
            minimum_fx = 2
        key = size if customer == "new" else f"repeat {shape} {size}"
        rows.append((customer, shape, size, run.status, hubspot, minimum_hs, fortnox, minimum_fx))
        data[key] = {
            "customer": customer,
            "shape": shape,
            "lines": size,
            "status": run.status,
            "hubspot": hubspot,
            "hubspot_min": minimum_hs,
            "fortnox": fortnox,
            "fortnox_min": minimum_fx,
            "paths": [f"{s.service} {s.method} {s.path}" for s in steps],
        }
    table(
        "1. API economy: calls per created invoice (shape sku: name, price and hs_sku on each "
        "line item; product: only a product link)",
        rows,
        (
            "customer",
            "shape",
            "lines",
            "status",
            "hubspot",
            "hubspot min",
            "fortnox",
            "fortnox min",
        ),
    )
    save("api_economy", data)
    return data


def _deal_company(tenant: Tenant, deal: str) -> str:
    record = tenant.portal.record("deals", deal)
    return str((record.get("associations") or {}).get("companies", [])[0])


QUIET_AFTER_S = 15  # into the burst, each other tenant moves one deal


def burst(
    stack: Stack,
    tenant: Tenant,
    deals: int,
    quiet: list[Tenant],
    companies: list[str] | None = None,
    title: str = "2. Burst on one tenant",
    name: str = "burst",
) -> dict[str, Any]:
    """One tenant's deals all at once; QUIET_AFTER_S later, one deal of each other tenant, whose
    wait shows whether the busy tenant starves them. With `companies` (repeat customers), the
    deals go to those companies in turn; without, each deal has a new company."""
    ids = [
        deal_create(tenant, 3, companies[i % len(companies)] if companies else None)
        for i in range(deals)
    ]
    quiet_ids = [(deal_create(other, 3), other) for other in quiet]
    peak = {"rss_kb": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peak["rss_kb"] = max(peak["rss_kb"], stack.worker_rss_kb())
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    requests.delete(f"{stack.hubspot}/_sandbox/requests", timeout=10)  # batch calls counted
    moved_at = {}
    started = time.time()
    with ThreadPoolExecutor(8) as pool:
        for deal in ids:
            moved_at[(tenant.hub, deal)] = time.time()
            pool.submit(tenant.portal.move, deal)
    time.sleep(max(0.0, started + QUIET_AFTER_S - time.time()) if quiet else 0)
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
    calls = call_counts(runs, batch_calls=_batch_calls(stack, tenant.hub))
    succeeded = [r for r in runs if r.status == "succeeded"]
    fortnox_per_doc = calls["calls"].get("fortnox", 0) / max(1, len(succeeded))
    hubspot_per_doc = calls["calls"].get("hubspot", 0) / max(1, len(succeeded))
    from integrations.ratelimit import FORTNOX_RATE, HUBSPOT_RATE

    bound = FORTNOX_CALLS_PER_MINUTE / max(fortnox_per_doc, 1)
    hubspot_bound = HUBSPOT_CALLS_PER_MINUTE / max(hubspot_per_doc, 1)
    binding = "fortnox" if bound <= hubspot_bound else "hubspot"
    binding_bound = min(bound, hubspot_bound)
    # The service's own pace stays under both limits by design (integrations/ratelimit.py).
    paced = min(
        FORTNOX_RATE.per_second * 60 / max(fortnox_per_doc, 1),
        HUBSPOT_RATE.per_second * 60 / max(hubspot_per_doc, 1),
    )
    throughput = len(succeeded) / (elapsed / 60) if elapsed else 0
    waits = waits_by_portal(runs, moved_at)[tenant.hub]
    counts = invoices_by_deal([tenant], runs)
    total_calls = sum(calls["calls"].values())
    data = {
        "deals": deals,
        "customers": f"{len(companies)} repeat" if companies else "new",
        "succeeded": len(succeeded),
        "failed": sum(1 for r in runs if r.status == "failed"),
        "missing": deals - len(runs),
        "duplicates": sum(c - 1 for c in counts.values() if c > 1),
        "reconciliation_differences": sum(len(r.reconciliation_differences or []) for r in runs),
        "elapsed_s": round(elapsed, 1),
        "docs_per_min": round(throughput, 1),
        "fortnox_calls_per_doc": round(fortnox_per_doc, 2),
        "hubspot_calls_per_doc": round(hubspot_per_doc, 2),
        "bound_docs_per_min": round(bound, 1),
        "ratio": round(throughput / bound, 2) if bound else 0,
        "hubspot_bound_docs_per_min": round(hubspot_bound, 1),
        "binding_api": binding,
        "binding_bound_docs_per_min": round(binding_bound, 1),
        "ratio_to_binding_bound": round(throughput / binding_bound, 2) if binding_bound else 0,
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
    table(title, list(data.items()), ("figure", "value"))
    save(name, data)
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


def _ack_measure(stack: Stack, hub: int, requests_per_thread: int) -> tuple[list, list]:
    """Seconds each signed webhook delivery (8 clients, each delivery a new contact change: the
    signature is checked and the event recorded, but it starts no run) and each /healthz beside
    it took to be answered."""
    webhook, trivial = [], []
    counter = iter(range(10**9))
    lock = threading.Lock()
    first = int(time.time() * 1000)  # event ids and times unique across scenarios

    def client() -> None:
        with requests.Session() as session:
            for _ in range(requests_per_thread):
                with lock:
                    n = next(counter)
                body = json.dumps(
                    [
                        {
                            "eventId": first + n,
                            "subscriptionId": 1,
                            "portalId": hub,
                            "appId": 1001,
                            "occurredAt": first + n,
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
    return webhook, trivial


def _ack_figures(webhook: list[float], trivial: list[float]) -> dict[str, Any]:
    p99, healthz_p99 = pct(webhook, 99) * 1000, pct(trivial, 99) * 1000
    return {
        "requests": len(webhook),
        "webhook_p50_ms": round(pct(webhook, 50) * 1000, 1),
        "webhook_p99_ms": round(p99, 1),
        "healthz_p50_ms": round(pct(trivial, 50) * 1000, 1),
        "healthz_p99_ms": round(healthz_p99, 1),
        "p99_over_healthz_p99": round(p99 / healthz_p99, 2) if healthz_p99 else 0,
    }


def webhook_ack(stack: Stack, hub: int, requests_per_thread: int) -> dict[str, Any]:
    data = _ack_figures(*_ack_measure(stack, hub, requests_per_thread))
    table(
        "4. Webhook acknowledgement (8 clients, ignored events)",
        list(data.items()),
        ("figure", "value"),
    )
    save("webhook_ack", data)
    return data


def ack_under_load(
    stack: Stack, tenant: Tenant, companies: list[str], deals: int, requests_per_thread: int
) -> dict[str, Any]:
    """Scenario 4's measurement while a burst of `deals` (repeat customers) is being worked:
    the workers run documents, the sandbox sends the burst's own webhooks to the same server."""
    ids = [(deal_create(tenant, 3, companies[i % len(companies)]), tenant) for i in range(deals)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda pair: tenant.portal.move(pair[0]), ids))
    started = time.monotonic()
    webhook, trivial = _ack_measure(stack, tenant.hub, requests_per_thread)
    measured_s = time.monotonic() - started
    from sync.models import Run

    finished_during = Run.objects.filter(
        installation__hub_id=tenant.hub,
        subject_id__in=[deal for deal, _t in ids],
        status__in=("succeeded", "failed"),
    ).count()
    runs = runs_wait(ids, timeout=3600)
    data = {
        **_ack_figures(webhook, trivial),
        "measured_s": round(measured_s, 1),
        "burst_deals": deals,
        "burst_finished_while_measuring": finished_during,
        "burst_succeeded": sum(1 for r in runs if r.status == "succeeded"),
    }
    table(
        f"4b. Webhook acknowledgement under load ({deals} deals being worked)",
        list(data.items()),
        ("figure", "value"),
    )
    save("ack_under_load", data)
    return data


def _max_in_window(times: list[float], window_s: float) -> int:
    """The most timestamps in any window of `window_s` seconds."""
    ordered, best, first = sorted(times), 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] >= window_s:
            first += 1
        best = max(best, last - first + 1)
    return best


def _tenant_pace(stack: Stack, tenants: list[Tenant]) -> dict[str, Any]:
    """From the sandboxes' request logs (cleared before the phase): the most calls of the app
    in any 5 s per Fortnox company and in any 10 s per HubSpot portal, and the 429s."""
    from datetime import datetime

    fortnox = requests.get(f"{stack.fortnox}/_sandbox/requests?path_prefix=/3/", timeout=60)
    hubspot = requests.get(f"{stack.hubspot}/_sandbox/requests", timeout=60)
    by_company: dict[str, list[float]] = defaultdict(list)
    by_portal: dict[int, list[float]] = defaultdict(list)
    limited = Counter()
    companies = {str(t.company) for t in tenants}
    hubs = {t.hub for t in tenants}
    for entry in fortnox.json():
        if (
            entry.get("client_id") == "sandbox-bookkeeper"
            or str(entry.get("company")) not in companies
        ):
            continue
        by_company[str(entry["company"])].append(
            datetime.fromisoformat(entry["timestamp"]).timestamp()
        )
        limited["fortnox"] += entry.get("status") == 429
    for entry in hubspot.json():
        if entry.get("portal") not in hubs or entry["path"].startswith(("/_sandbox", "/oauth")):
            continue
        by_portal[entry["portal"]].append(float(entry["timestamp"]))
        limited["hubspot"] += entry.get("status") == 429
    fortnox_max = {c: _max_in_window(t, 5) for c, t in by_company.items()}
    hubspot_max = {p: _max_in_window(t, 10) for p, t in by_portal.items()}
    return {
        "fortnox_max_per_5s": max(fortnox_max.values(), default=0),
        "fortnox_limit_per_5s": 25,
        "hubspot_max_per_10s": max(hubspot_max.values(), default=0),
        "hubspot_limit_per_10s": 110,
        "fortnox_429": limited["fortnox"],
        "hubspot_429": limited["hubspot"],
    }


def scale_out(stack: Stack, tenants: list[Tenant], per: int) -> dict[str, Any]:
    """Many tenants' deals worked by 1, then 2 "machines": worker processes started apart (each
    its own process tree and MACHINE_WORKERS threads) on the same PostgreSQL and Redis.
    Each tenant's pace is read from the sandboxes' request logs."""
    results = {}
    stack.workers(MACHINE_WORKERS)
    for machines in (1, 2):
        if machines == 2:
            stack.machine_start("machine2", MACHINE_WORKERS)
        ids = [(deal_create(t, 2), t) for t in tenants for _ in range(per)]
        requests.delete(f"{stack.fortnox}/_sandbox/requests", timeout=10)
        requests.delete(f"{stack.hubspot}/_sandbox/requests", timeout=10)
        started = time.time()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda pair: pair[1].portal.move(pair[0]), ids))
        runs = runs_wait(ids, timeout=3600)
        end = max((r.finished_at.timestamp() for r in runs if r.finished_at), default=started)
        succeeded = sum(1 for r in runs if r.status == "succeeded")
        counts = invoices_by_deal(tenants, runs)
        results[machines] = {
            "runs": len(runs),
            "succeeded": succeeded,
            "duplicates": sum(c - 1 for c in counts.values() if c > 1),
            "docs_per_min": round(succeeded / ((end - started) / 60), 1) if end > started else 0,
            **_tenant_pace(stack, tenants),
        }
    stack.procs.stop("machine2")
    table(
        f"3b. Scale out: {len(tenants)} tenants × {per} deals, machines of "
        f"{MACHINE_WORKERS} threads",
        [(m, *r.values()) for m, r in results.items()],
        (
            "machines",
            "runs",
            "succeeded",
            "dups",
            "docs/min",
            "fx max/5s",
            "fx limit",
            "hs max/10s",
            "hs limit",
            "fx 429",
            "hs 429",
        ),
    )
    save("scale_out", results)
    stack.workers(DEFAULT_WORKERS)
    return results


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


SCENARIOS = (
    "economy",
    "burst",
    "repeat",
    "tenants",
    "scaleout",
    "ack",
    "ackload",
    "faults",
)


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
        "repeat_burst": 20 if quick else 500,
        "repeat_companies": 5 if quick else 20,
        "scaleout_per_tenant": 3 if quick else 10,
        "ackload_deals": 20 if quick else 200,
        "ackload_per_thread": 50 if quick else 250,
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
        for key, figures in economy.items():
            label = (
                f"economy {key} lines"
                if figures["customer"] == "new"
                else f"economy repeat customer, {figures['shape']} shape, {figures['lines']} lines"
            )
            summary[f"{label}: hubspot/fortnox calls"] = (
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
        repeat_companies: list[str] = []
        if wanted & {"repeat", "ackload"}:
            repeat_companies = repeat_customers(main_tenant, size["repeat_companies"])
        if "repeat" in wanted:
            r = burst(
                stack,
                main_tenant,
                size["repeat_burst"],
                [],
                repeat_companies,
                title="2b. Burst of repeat customers on one tenant",
                name="burst_repeat",
            )
            summary |= {
                f"repeat burst {size['repeat_burst']} ({r['customers']} customers): docs/min": (
                    r["docs_per_min"]
                ),
                "repeat burst: calls per doc hubspot/fortnox": (
                    f"{r['hubspot_calls_per_doc']}/{r['fortnox_calls_per_doc']}"
                ),
                "repeat burst: bound docs/min hubspot/fortnox, binding": (
                    f"{r['hubspot_bound_docs_per_min']}/{r['bound_docs_per_min']}, "
                    f"{r['binding_api']}"
                ),
                "repeat burst: ratio to binding bound": r["ratio_to_binding_bound"],
                "repeat burst: failed / duplicates / missing / reconciliation differences": (
                    f"{r['failed']}/{r['duplicates']}/{r['missing']}/"
                    f"{r['reconciliation_differences']}"
                ),
                "repeat burst: 429 share of calls": r["share_429"],
                "repeat burst: p50/p95/max s webhook→note": (
                    f"{r['p50_s']}/{r['p95_s']}/{r['max_s']}"
                ),
                "worker peak RSS MB (repeat burst)": r["worker_peak_rss_mb"],
            }
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
        if "scaleout" in wanted:
            out = scale_out(stack, tenants, size["scaleout_per_tenant"])
            for machines, figures in out.items():
                summary[
                    f"scale out ×{len(tenants)} tenants, {machines} machine(s): docs/min; "
                    "max calls per tenant fortnox/5 s, hubspot/10 s; 429s"
                ] = (
                    f"{figures['docs_per_min']}; {figures['fortnox_max_per_5s']}/25, "
                    f"{figures['hubspot_max_per_10s']}/110; "
                    f"{figures['fortnox_429']}+{figures['hubspot_429']}"
                )
        if "ack" in wanted:
            ack = webhook_ack(stack, 9000001, size["ack_per_thread"])
            summary["webhook ack p50/p99 ms (healthz), p99 ratio"] = (
                f"{ack['webhook_p50_ms']}/{ack['webhook_p99_ms']} "
                f"({ack['healthz_p50_ms']}/{ack['healthz_p99_ms']}), "
                f"{ack['p99_over_healthz_p99']}"
            )
        if "ackload" in wanted:
            load = ack_under_load(
                stack,
                main_tenant,
                repeat_companies,
                size["ackload_deals"],
                size["ackload_per_thread"],
            )
            summary["webhook ack under load p50/p99 ms (healthz), p99 ratio"] = (
                f"{load['webhook_p50_ms']}/{load['webhook_p99_ms']} "
                f"({load['healthz_p50_ms']}/{load['healthz_p99_ms']}), "
                f"{load['p99_over_healthz_p99']}"
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
