"""The run engine's Swedish (locale/sv/parts/engine.po): every message translated, with the
same placeholders as its English, and every message the engine marks for translation present
in a part file, so a Swedish run never falls back to English halfway through a note."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PARTS = ROOT / "locale" / "sv" / "parts"
ENGINE_PART = PARTS / "engine.po"
# The modules whose sentences a run stores and shows to users (sync/execute.py runs them in the
# portal's language).
ENGINE_MODULES = (
    "sync/execute.py",
    "sync/tasks.py",
    "sync/articles.py",
    "sync/customers.py",
    "sync/customer_sync.py",
    "sync/document.py",
    "sync/document_run.py",
    "sync/currency.py",
    "sync/reader.py",
    "sync/mapping.py",
    "sync/finish.py",
    "billing/quota.py",
    "sync/deliveries/senders.py",
    "sync/workflows.py",
    "sync/figures.py",
    "sync/figures_store.py",
    "sync/figures_hubspot.py",
    "portals/cards.py",
    "portals/views_cards.py",
    "integrations/errors.py",
    "integrations/fortnox/errors.py",
    "integrations/hubspot/errors.py",
    "integrations/fortnox/tokens.py",
    "integrations/fortnox/client.py",
    "integrations/fortnox/oauth.py",
)
GETTEXT_NAMES = {"_", "gettext", "gettext_noop", "gettext_lazy"}
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


def po_entries(path: Path) -> list[dict[str, str]]:
    """msgctxt/msgid/msgstr of each entry (strings joined over lines), header left out."""
    entries: list[dict[str, str]] = []
    entry: dict[str, str] = {}
    field = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        keyword = line.split(" ", 1)[0]
        if keyword in ("msgctxt", "msgid", "msgstr"):
            if keyword != "msgstr" and "msgstr" in entry:
                entries.append(entry)
                entry = {}
            field = keyword
            entry[field] = ast.literal_eval(line[len(keyword) + 1 :])
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
    if "msgstr" in entry:
        entries.append(entry)
    return [e for e in entries if e["msgid"]]


def marked_messages(module: str) -> set[tuple[str | None, str]]:
    """(context, message) of every literal the module passes to gettext or pgettext."""
    found: set[tuple[str | None, str]] = set()
    for node in ast.walk(ast.parse((ROOT / module).read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        args = node.args
        if node.func.id in GETTEXT_NAMES and args and isinstance(args[0], ast.Constant):
            found.add((None, args[0].value))
        elif (
            node.func.id == "pgettext"
            and len(args) >= 2
            and all(isinstance(arg, ast.Constant) for arg in args[:2])
        ):
            found.add((args[0].value, args[1].value))
    return found


ENGINE_ENTRIES = po_entries(ENGINE_PART)


@pytest.mark.parametrize("entry", ENGINE_ENTRIES, ids=lambda e: e["msgid"][:60])
def test_every_engine_message_has_swedish_with_the_same_placeholders(entry):
    assert entry["msgstr"].strip(), f"no Swedish for {entry['msgid']!r}"
    assert entry["msgstr"] != entry["msgid"] or not re.search(r"[a-z]{4}", entry["msgid"])
    assert sorted(PLACEHOLDER.findall(entry["msgstr"])) == sorted(
        PLACEHOLDER.findall(entry["msgid"])
    ), f"placeholders differ: {entry['msgid']!r} -> {entry['msgstr']!r}"


def test_every_message_the_engine_marks_is_translated_in_a_part_file():
    translated = {
        (e.get("msgctxt"), e["msgid"])
        for part in PARTS.glob("*.po")
        for e in po_entries(part)
        if e["msgstr"].strip()
    }
    marked = set().union(*(marked_messages(module) for module in ENGINE_MODULES))

    assert sorted(m for m in marked - translated if m[1]) == []


def test_the_part_file_has_no_message_twice():
    keys = [(e.get("msgctxt"), e["msgid"]) for e in ENGINE_ENTRIES]
    assert len(keys) == len(set(keys)) and len(keys) > 100
