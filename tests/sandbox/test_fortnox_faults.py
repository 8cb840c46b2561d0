"""The Fortnox sandbox's rate limit, faults and admin routes."""

from __future__ import annotations

import json
import time

import pytest
import requests

from sandbox.core.server import BackgroundServer


def token(url: str, company: str = "1") -> str:
    r = requests.post(f"{url}/_sandbox/tokens", json={"company": company}, timeout=5)
    return r.json()["access_token"]


def session(url: str, company: str = "1") -> requests.Session:
    s = requests.Session()
    s.headers.update(
        {"Authorization": f"Bearer {token(url, company)}", "Content-Type": "application/json"}
    )
    return s


def fault(url: str, name: str, **body) -> dict:
    r = requests.post(f"{url}/_sandbox/faults/{name}", json=body, timeout=5)
    assert r.status_code == 200, r.text
    return r.json()


NEW_INVOICE = json.dumps(
    {"Invoice": {"CustomerNumber": "1", "ExternalInvoiceReference1": "drop-1"}}
)


def test_rate_limit_26th_request_in_5_seconds(fortnox_url):
    s = session(fortnox_url)
    statuses = [s.get(f"{fortnox_url}/3/units", timeout=5).status_code for _ in range(26)]
    assert statuses[:25] == [200] * 25
    assert statuses[25] == 429
    r = s.get(f"{fortnox_url}/3/units", timeout=5)
    assert r.status_code == 429 and r.json() == {"message": "Too Many Requests"}
    # another tenant has its own budget
    assert session(fortnox_url, "2").get(f"{fortnox_url}/3/units", timeout=5).status_code == 200
    requests.post(f"{fortnox_url}/_sandbox/clock", json={"advance_seconds": 5}, timeout=5)
    assert s.get(f"{fortnox_url}/3/units", timeout=5).status_code == 200


def test_latency(fortnox_url):
    s = session(fortnox_url)
    fault(fortnox_url, "latency", min_ms=200, max_ms=200)
    start = time.monotonic()
    assert s.get(f"{fortnox_url}/3/units", timeout=5).status_code == 200
    assert time.monotonic() - start >= 0.2
    fault(fortnox_url, "latency", min_ms=0, max_ms=0)
    start = time.monotonic()
    s.get(f"{fortnox_url}/3/units", timeout=5)
    assert time.monotonic() - start < 0.2


def test_fail_next_answers_without_touching_state(fortnox_url):
    s = session(fortnox_url)
    fault(fortnox_url, "fail-next", count=2, status=503, method="POST", path_prefix="/3/invoices")
    assert s.get(f"{fortnox_url}/3/invoices", timeout=5).status_code == 200  # GET not matched
    for _ in range(2):
        r = s.post(f"{fortnox_url}/3/invoices", data=NEW_INVOICE, timeout=5)
        assert r.status_code == 503
    invoices = requests.get(f"{fortnox_url}/_sandbox/records/1/invoices", timeout=5).json()
    assert len(invoices) == 1
    assert s.post(f"{fortnox_url}/3/invoices", data=NEW_INVOICE, timeout=5).status_code == 201
    fault(fortnox_url, "fail-next", count=1, status=500)
    r = s.get(f"{fortnox_url}/3/customers", timeout=5)
    assert r.status_code == 500 and r.json()["ErrorInformation"]["code"] == 1000003


def test_rate_limit_storm(fortnox_url):
    s = session(fortnox_url)
    fault(fortnox_url, "rate-limit-storm", seconds=30)
    assert s.get(f"{fortnox_url}/3/units", timeout=5).status_code == 429
    assert requests.get(f"{fortnox_url}/3/units", timeout=5).status_code == 429
    assert requests.get(f"{fortnox_url}/_sandbox/faults", timeout=5).json()["rate_limit_storm"][
        "active"
    ]
    requests.post(f"{fortnox_url}/_sandbox/clock", json={"advance_seconds": 31}, timeout=5)
    assert s.get(f"{fortnox_url}/3/units", timeout=5).status_code == 200


def test_expire_tokens_keeps_refresh_tokens(fortnox_url):
    pair = requests.post(f"{fortnox_url}/_sandbox/tokens", json={"company": "1"}, timeout=5).json()
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert requests.get(f"{fortnox_url}/3/units", headers=headers, timeout=5).status_code == 200
    fault(fortnox_url, "expire-tokens")
    r = requests.get(f"{fortnox_url}/3/units", headers=headers, timeout=5)
    assert r.status_code == 401 and r.json() == {"message": "unauthorized"}
    r = requests.post(
        f"{fortnox_url}/oauth-v1/token",
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        auth=("sandbox-fortnox-client", "sandbox-fortnox-secret"),
        timeout=5,
    )
    assert r.status_code == 200


def test_revoke_consent(fortnox_url):
    pair = requests.post(f"{fortnox_url}/_sandbox/tokens", json={"company": "1"}, timeout=5).json()
    other = token(fortnox_url, "2")
    fault(fortnox_url, "revoke-consent", company="1")
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert requests.get(f"{fortnox_url}/3/units", headers=headers, timeout=5).status_code == 401
    r = requests.post(
        f"{fortnox_url}/oauth-v1/token",
        data={"grant_type": "refresh_token", "refresh_token": pair["refresh_token"]},
        auth=("sandbox-fortnox-client", "sandbox-fortnox-secret"),
        timeout=5,
    )
    assert r.status_code == 400 and json.loads(r.text)["error"] == "invalid_grant"
    headers = {"Authorization": f"Bearer {other}"}
    assert requests.get(f"{fortnox_url}/3/units", headers=headers, timeout=5).status_code == 200


def test_commit_then_drop(fortnox_url):
    s = session(fortnox_url)
    fault(fortnox_url, "commit-then-drop", count=1, path_prefix="/3/invoices")
    with pytest.raises(requests.ConnectionError):
        s.post(f"{fortnox_url}/3/invoices", data=NEW_INVOICE, timeout=5)
    found = s.get(
        f"{fortnox_url}/3/invoices", params={"externalinvoicereference1": "drop-1"}, timeout=5
    ).json()
    assert found["MetaInformation"]["@TotalResources"] == 1  # committed before the drop
    # only once
    r = s.post(f"{fortnox_url}/3/invoices", data=NEW_INVOICE, timeout=5)
    assert r.status_code == 201
    assert (
        requests.get(f"{fortnox_url}/_sandbox/faults", timeout=5).json()["commit_then_drop"] == []
    )


def test_commit_then_hold(fortnox_url):
    s = session(fortnox_url)
    fault(fortnox_url, "commit-then-hold", count=1, path_prefix="/3/invoices", seconds=3)
    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        s.post(f"{fortnox_url}/3/invoices", data=NEW_INVOICE, timeout=(5, 1))
    found = s.get(
        f"{fortnox_url}/3/invoices", params={"externalinvoicereference1": "drop-1"}, timeout=5
    ).json()
    assert found["MetaInformation"]["@TotalResources"] == 1  # committed, the answer held
    assert time.monotonic() - started < 3
    # only once: the next create answers at once
    r = s.post(f"{fortnox_url}/3/invoices", data=NEW_INVOICE, timeout=2)
    assert r.status_code == 201
    assert (
        requests.get(f"{fortnox_url}/_sandbox/faults", timeout=5).json()["commit_then_hold"] == []
    )


def test_clear_faults(fortnox_url):
    fault(fortnox_url, "latency", min_ms=50, max_ms=150)
    fault(fortnox_url, "fail-next", count=3, status=502)
    fault(fortnox_url, "rate-limit-storm", seconds=10)
    shown = requests.get(f"{fortnox_url}/_sandbox/faults", timeout=5).json()
    assert shown["latency"] == {"min_ms": 50, "max_ms": 150}
    assert shown["fail_next"][0]["status"] == 502
    r = requests.delete(f"{fortnox_url}/_sandbox/faults", timeout=5)
    assert r.json()["fail_next"] == [] and not r.json()["rate_limit_storm"]["active"]
    s = session(fortnox_url)
    assert s.get(f"{fortnox_url}/3/units", timeout=5).status_code == 200


def test_records_and_request_log(fortnox_url):
    s = session(fortnox_url)
    s.post(
        f"{fortnox_url}/3/customers", data=json.dumps({"Customer": {"Name": "Logged"}}), timeout=5
    )
    s.get(f"{fortnox_url}/3/customers/99", timeout=5)
    raw = requests.get(f"{fortnox_url}/_sandbox/records/1/customers/3", timeout=5).json()
    assert raw["Name"] == "Logged" and "@url" not in raw
    assert (
        requests.get(f"{fortnox_url}/_sandbox/records/1/customers/77", timeout=5).status_code == 404
    )
    log = requests.get(
        f"{fortnox_url}/_sandbox/requests", params={"company": "1", "path_prefix": "/3/"}, timeout=5
    ).json()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", "/3/customers", 201),
        ("GET", "/3/customers/99", 404),
    ]
    assert log[0]["body"] == {"Customer": {"Name": "Logged"}}
    assert log[0]["response"]["Customer"]["Name"] == "Logged"
    assert log[0]["client_id"] == "sandbox-fortnox-client"
    requests.delete(f"{fortnox_url}/_sandbox/requests", timeout=5)
    assert requests.get(f"{fortnox_url}/_sandbox/requests", timeout=5).json() == []
    patched = requests.patch(
        f"{fortnox_url}/_sandbox/records/1/invoices/1", json={"Balance": 0}, timeout=5
    )
    assert patched.json()["Balance"] == 0


def test_reset_restores_seed(fortnox_url):
    s = session(fortnox_url)
    s.post(f"{fortnox_url}/3/customers", data=json.dumps({"Customer": {"Name": "Gone"}}), timeout=5)
    requests.post(f"{fortnox_url}/_sandbox/clock", json={"advance_seconds": 100}, timeout=5)
    requests.post(f"{fortnox_url}/_sandbox/reset", timeout=5)
    assert len(requests.get(f"{fortnox_url}/_sandbox/records/1/customers", timeout=5).json()) == 2
    assert requests.get(f"{fortnox_url}/_sandbox/clock", timeout=5).json()["offset_seconds"] == 0
    assert s.get(f"{fortnox_url}/3/units", timeout=5).status_code == 401  # tokens cleared


def test_state_file_survives_restart(tmp_path):
    from sandbox.fortnox.app import create_app

    path = tmp_path / "fortnox.json"
    app = create_app(state_file=str(path))
    server = BackgroundServer(app).start()
    try:
        s = session(server.url)
        r = s.post(
            f"{server.url}/3/customers", data=json.dumps({"Customer": {"Name": "Kept"}}), timeout=5
        )
        assert r.status_code == 201
    finally:
        server.stop()
        app.close()
    assert path.exists()
    again = create_app(state_file=str(path))
    server = BackgroundServer(again).start()
    try:
        rec = requests.get(f"{server.url}/_sandbox/records/1/customers/3", timeout=5).json()
        assert rec["Name"] == "Kept"
    finally:
        server.stop()
        again.close()


def test_the_unknown_article_answer_to_a_document_can_be_switched(fortnox_url):
    s = session(fortnox_url)
    sent = {"Invoice": {"CustomerNumber": "1", "InvoiceRows": [{"ArticleNumber": "NOPE"}]}}

    def refused(kind: str = "invoices") -> tuple[int, dict]:
        body = (
            {"Order": {"CustomerNumber": "1", "OrderRows": [{"ArticleNumber": "NOPE"}]}}
            if kind == "orders"
            else sent
        )
        r = s.post(f"{fortnox_url}/3/{kind}", json=body, timeout=5)
        return r.status_code, r.json()["ErrorInformation"]

    # The default guess (sandbox/fortnox/README.md, "Choices on unconfirmed points").
    assert refused() == (
        400,
        {"error": 1, "message": "Kunde inte hitta artikel (NOPE)", "code": 2001302},
    )
    described = fault(fortnox_url, "article-missing-answer", code=2000428, status=404)
    assert described["article_missing_answer"] == {"code": 2000428, "status": 404}
    for kind in ("invoices", "orders"):
        assert refused(kind) == (
            404,
            {"Error": 1, "Message": "Kan inte hitta artikeln.", "Code": 2000428},
        )
    fault(fortnox_url, "article-missing-answer", code=2000428, status=400)
    assert refused()[0] == 400 and refused()[1]["code"] == 2000428
    # Other refusals and the article lookup itself keep their answers.
    r = s.post(f"{fortnox_url}/3/invoices", json={"Invoice": {"CustomerNumber": "999"}}, timeout=5)
    assert r.status_code == 400 and r.json()["ErrorInformation"]["code"] == 2000204
    bad = requests.post(
        f"{fortnox_url}/_sandbox/faults/article-missing-answer", json={"code": 1}, timeout=5
    )
    assert bad.status_code == 400
    requests.delete(f"{fortnox_url}/_sandbox/faults", timeout=5)
    assert refused()[1]["code"] == 2001302
