"""`make demo` as a newcomer runs it: its own processes on free ports, one JSON line at the end."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_make_demo_turns_a_deal_into_a_draft_invoice():
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    outcome = json.loads(lines[-1])
    assert outcome["document_type"] == "invoice"
    assert outcome["document_number"] and outcome["note_id"] and outcome["deal"]
    assert float(outcome["total"]) > 0
    assert outcome["pdf_bytes"] > 1000
    story = "\n".join(lines[:-1])
    assert f"draft invoice {outcome['document_number']}" in story
    assert "PDF:en är bifogad." in story  # the demo portal writes Swedish, the default
