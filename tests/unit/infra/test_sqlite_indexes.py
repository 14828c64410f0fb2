"""The embedded store indexes every catalogued field, also in tables made before it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from infra.read_store.sqlite import SQLiteReadStore
from projections.catalog import INDEXED_FIELDS


def index_sql(path: Path, table: str) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        ).fetchall()
    return " ".join(row[0] or "" for row in rows)


def test_a_table_made_before_a_field_was_indexed_gets_the_index_on_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()
    with sqlite3.connect(path) as conn:  # as a store of an older catalog left it
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'c_audit_trail'"
            " AND sql LIKE '%$.team_id%'"
        ).fetchall():
            conn.execute(f'DROP INDEX "{name}"')
    assert "$.team_id" not in index_sql(path, "c_audit_trail")

    SQLiteReadStore(path).close()

    indexed = index_sql(path, "c_audit_trail")
    assert all(f"'$.{name}'" in indexed for name in INDEXED_FIELDS["audit_trail"])


def test_opening_again_adds_no_second_index(tmp_path: Path) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()
    before = index_sql(path, "c_audit_trail").count("CREATE INDEX")

    SQLiteReadStore(path).close()

    assert index_sql(path, "c_audit_trail").count("CREATE INDEX") == before
