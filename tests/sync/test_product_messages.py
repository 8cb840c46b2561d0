"""The product sync's Swedish (locale/sv/parts/products.po): every message the product sync and
the Products tab's product sync settings mark is translated in a part file, and each Swedish
text keeps its English placeholders, so a Swedish portal reads a product run in Swedish."""

from __future__ import annotations

import re

import pytest

from tests.sync.test_engine_messages import PARTS, PLACEHOLDER, marked_messages, po_entries

PRODUCTS_PART = PARTS / "products.po"
MODULES = ("sync/product_sync.py", "portals/forms_products.py", "portals/views_products.py")
ENTRIES = po_entries(PRODUCTS_PART)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["msgid"][:60])
def test_every_product_message_has_swedish_with_the_same_placeholders(entry):
    assert entry["msgstr"].strip(), f"no Swedish for {entry['msgid']!r}"
    assert entry["msgstr"] != entry["msgid"] or not re.search(r"[a-z]{4}", entry["msgid"])
    assert sorted(PLACEHOLDER.findall(entry["msgstr"])) == sorted(
        PLACEHOLDER.findall(entry["msgid"])
    ), f"placeholders differ: {entry['msgid']!r} -> {entry['msgstr']!r}"


def test_every_message_the_product_sync_marks_is_translated_in_a_part_file():
    translated = {
        (e.get("msgctxt"), e["msgid"])
        for part in PARTS.glob("*.po")
        for e in po_entries(part)
        if e["msgstr"].strip()
    }
    marked = set().union(*(marked_messages(module) for module in MODULES))

    assert sorted(m for m in marked - translated if m[1]) == []
