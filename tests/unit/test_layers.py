"""The layers, as rules: nothing runs back up from the pure core.

- ``domain/`` imports only the standard library, ``eventsourcing`` and itself;
- ``projections/`` imports only the standard library, ``domain`` and itself;
- ``infra/`` never imports ``services`` (the composition roots sit on top of it).

Read from the source (every import statement, those under ``TYPE_CHECKING`` and
inside functions included), so a violation fails here before anything runs it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STDLIB = frozenset(sys.stdlib_module_names)


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, top-level package) of every absolute import in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.partition(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module.partition(".")[0]


def sources(layer: str) -> list[Path]:
    found = sorted((ROOT / layer).rglob("*.py"))
    assert found, f"no Python files under {layer}/"
    return found


def violations(layer: str, allowed: frozenset[str] | None = None,
               forbidden: frozenset[str] = frozenset()) -> list[str]:
    found = []
    for path in sources(layer):
        for line, top in imports_of(path):
            refused = top in forbidden or (
                allowed is not None and top not in allowed and top not in STDLIB)
            if refused:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {top}")
    return found


def test_domain_imports_only_the_standard_library_and_eventsourcing() -> None:
    assert violations("domain", allowed=frozenset({"domain", "eventsourcing"})) == []


def test_projections_import_only_the_standard_library_and_the_domain() -> None:
    assert violations("projections", allowed=frozenset({"projections", "domain"})) == []


def test_infra_never_imports_the_services() -> None:
    assert violations("infra", forbidden=frozenset({"services"})) == []


def test_lazy_and_type_checking_imports_count_too(tmp_path: Path) -> None:
    """The checker itself: imports inside functions and under ``TYPE_CHECKING`` are seen
    (relative ones stay inside their package, so they are not)."""
    source = tmp_path / "lazy.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    import kafka.errors\n"
        "def f():\n    from services.api import app\n    from . import sibling\n"
    )
    assert sorted(top for _, top in imports_of(source)) == ["kafka", "services", "typing"]
