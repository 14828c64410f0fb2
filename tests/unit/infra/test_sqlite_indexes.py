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


def drop_indexes_on(path: Path, table: str, field: str) -> None:
    """Drop every index of ``table`` over ``field``."""
    with sqlite3.connect(path) as conn:
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?"
            " AND sql LIKE ?", (table, f"%$.{field}'%"),
        ).fetchall():
            conn.execute(f'DROP INDEX "{name}"')


def test_a_table_made_before_a_field_was_indexed_gets_the_index_on_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()
    drop_indexes_on(path, "c_audit_trail", "team_id")  # as a store of an older catalog left it
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


def query_plan(path: Path, sql: str, *params: object) -> str:
    with sqlite3.connect(path) as conn:
        return " ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_a_teams_list_is_read_in_its_order_off_one_index_without_sorting(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()
    order = "ORDER BY json_extract(body, '$.received_at'), id LIMIT 51"

    by_team = query_plan(path, "SELECT id, body FROM c_feedback WHERE "
                         f"json_extract(body, '$.team_id') = ? {order}", "team-1")
    everyone = query_plan(path, f"SELECT id, body FROM c_feedback {order}")

    assert "USING INDEX ix_feedback_team_id_received_at" in by_team
    assert "USING INDEX ix_feedback_received_at" in everyone
    assert "TEMP B-TREE" not in by_team + everyone


def test_a_table_made_before_the_list_orders_gets_their_indexes_on_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()
    drop_indexes_on(path, "c_feedback", "received_at")  # as a store of an older catalog left it
    assert "$.received_at" not in index_sql(path, "c_feedback")

    SQLiteReadStore(path).close()

    indexed = index_sql(path, "c_feedback")
    assert "(json_extract(body, '$.received_at'), id)" in indexed
    assert ("(json_extract(body, '$.team_id'), json_extract(body, '$.received_at'), id)"
            in indexed)


def test_the_late_records_are_read_off_their_own_index_not_a_scan_of_the_trail(
    tmp_path: Path,
) -> None:
    """The ``backdated_entry`` control's query (on every findings request): the few
    ``recorded_late`` records, in ``position`` order."""
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()

    plan = query_plan(path, "SELECT id, body FROM c_audit_trail WHERE "
                      "json_extract(body, '$.recorded_late') = ? "
                      "ORDER BY json_extract(body, '$.position'), id LIMIT 1001", 1)

    assert "USING INDEX ix_audit_trail_recorded_late" in plan
