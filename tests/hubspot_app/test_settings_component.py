"""The settings component (hubspot-app/src/app/settings/) under HubSpot's UI-extension testing
utilities: its Vitest tests (hubspot-app/tests/settings.test.tsx) run here, so `make test` runs
them whenever `npm ci` has installed hubspot-app/node_modules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parents[2] / "hubspot-app"


def test_the_settings_component_passes_its_ui_extension_tests():
    node = shutil.which("node")
    vitest = APP_DIR / "node_modules" / "vitest" / "vitest.mjs"
    if node is None or not vitest.is_file():
        pytest.skip("Vitest is not installed: run `cd hubspot-app && npm ci`, then test again")
    done = subprocess.run(
        [node, str(vitest), "run", "--reporter=verbose"],
        cwd=APP_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout and " failed" not in done.stdout, done.stdout
