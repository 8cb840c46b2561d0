"""The layers of the service: the vendor adapters (integrations/) stand alone; the notes render
from plain data and know nothing of runs; the portal feature, the run engine and billing build
on them, never the other way round; and no import hidden in a function body papers over a
cycle."""

from __future__ import annotations

import ast

from tests.conftest import ROOT

HIGHER_LAYERS = ("sync", "notes", "portals", "billing")


def _imports(tree: ast.AST) -> list[tuple[str, ast.AST]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, node))
        elif isinstance(node, ast.Import):
            found.extend((alias.name, node) for alias in node.names)
    return found


def test_integrations_imports_nothing_from_the_apps_built_on_it():
    offenders = []
    for path in sorted((ROOT / "integrations").rglob("*.py")):
        for module, node in _imports(ast.parse(path.read_text())):
            if module.split(".")[0] in HIGHER_LAYERS:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert offenders == []


def test_notes_import_nothing_from_the_run_engine_or_the_portal_feature():
    offenders = []
    for path in sorted((ROOT / "notes").rglob("*.py")):
        for module, node in _imports(ast.parse(path.read_text())):
            if module.split(".")[0] in ("sync", "portals", "billing"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert offenders == []


def test_project_imports_are_at_module_level():
    project = ("integrations", "portals", *HIGHER_LAYERS, "cloudify")
    offenders = []
    for package in project:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text())
            top_level = set(map(id, tree.body))
            for module, node in _imports(tree):
                if module.split(".")[0] in project and id(node) not in top_level:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {module}")
    assert offenders == []
