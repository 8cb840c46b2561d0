"""The React components of the HubSpot project (hubspot-app/src/app/settings/ and cards/) under
HubSpot's UI-extension testing utilities: every Vitest test file in hubspot-app/tests/ runs here,
and the TypeScript type check (`npm run typecheck`), so `make test` runs them whenever `npm ci`
has installed hubspot-app/node_modules. Without Node or the packages these tests skip locally and
fail in CI (the CI variable set, as .ci/run does), where they must run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "hubspot-app"
# The component tests that must be there and pass (hubspot-app/tests/).
TEST_FILES = {
    "settings.test.tsx",
    "customer-card.test.tsx",
    "deal-card.test.tsx",
    "card-service.test.ts",
}


def node_tool(*parts: str) -> tuple[str, Path]:
    """node and a tool in hubspot-app/node_modules, or skip (locally) / fail (in CI)."""
    node = shutil.which("node")
    tool = APP_DIR.joinpath("node_modules", *parts)
    if node is None or not tool.is_file():
        missing = "Node.js is not installed" if node is None else f"{tool.name} is not installed"
        message = f"{missing}: run `cd hubspot-app && npm ci` (Node.js 18+), then test again"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {message}")
        pytest.skip(message)
    return node, tool


def test_every_component_test_file_passes(tmp_path):
    node, vitest = node_tool("vitest", "vitest.mjs")
    report = tmp_path / "vitest.json"
    done = subprocess.run(
        [node, str(vitest), "run", "--reporter=json", f"--outputFile={report}"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert report.is_file(), done.stdout + done.stderr
    results = json.loads(report.read_text(encoding="utf-8"))
    by_file = {Path(r["name"]).name: r for r in results["testResults"]}
    assert set(by_file) >= TEST_FILES, f"missing test files: {TEST_FILES - set(by_file)}"
    failed = {
        name: [
            f"{' > '.join(a['ancestorTitles'] + [a['title']])}: {' '.join(a['failureMessages'])}"
            for a in result["assertionResults"]
            if a["status"] != "passed"
        ]
        or [result.get("message", "")]
        for name, result in by_file.items()
        if result["status"] != "passed"
    }
    assert not failed, json.dumps(failed, indent=2)
    for name, result in by_file.items():
        assert result["assertionResults"], f"{name} ran no tests"
    assert results["numFailedTests"] == 0 and results["numPassedTests"] > 0
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_the_components_type_check():
    node, tsc = node_tool("typescript", "bin", "tsc")
    done = subprocess.run(
        [node, str(tsc), "-p", "tsconfig.json"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
