"""The embedded store indexes every catalogued field, on a column of its own, also in
tables made before the field was catalogued or before fields had columns."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest

from infra.read_store.port import Range
from infra.read_store.sqlite import SQLiteReadStore
from infra.read_store.sqlite_schema import COLUMN_PREFIX
from projections.catalog import INDEXED_FIELDS, LIST_ORDERS


def index_sql(path: Path, table: str) -> str:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", (table,)
        ).fetchall()
    return " ".join(row[0] or "" for row in rows)


def columns(path: Path, table: str) -> dict[str, int]:
    """Column name -> ``hidden`` (0 plain, 2 virtual, 3 stored generated)."""
    with sqlite3.connect(path) as conn:
        return {row[1]: row[6] for row in conn.execute(f'PRAGMA table_xinfo("{table}")')}


def query_plan(path: Path, sql: str, *params: object) -> str:
    with sqlite3.connect(path) as conn:
        return " ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def feedback(n: int) -> dict[str, object]:
    return {"_id": f"fb-{n}", "id": f"fb-{n}", "team_id": f"team-{n % 2}", "kind": "praise",
            "received_at": f"2024-01-0{1 + n}T00:00:00.000000Z", "_streams": {f"fb-{n}": 1},
            "_position": n}


def old_store(path: Path) -> None:
    """A feedback table as stores made it before fields had columns: the document
    alone, indexes on the JSON expression."""
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE c_feedback (id TEXT PRIMARY KEY, body TEXT NOT NULL)")
        for name in INDEXED_FIELDS["feedback"]:
            conn.execute(f"CREATE INDEX ix_feedback_{name}_old ON c_feedback "
                         f"(json_extract(body, '$.{name}'), id)")
        conn.executemany("INSERT INTO c_feedback (id, body) VALUES (?, ?)",
                         [(f"fb-{n}", orjson.dumps(feedback(n)).decode()) for n in range(4)])


def test_a_new_table_stores_a_column_per_catalogued_field_before_the_document(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()

    made = columns(path, "c_audit_trail")

    assert list(made) == ["id", *(COLUMN_PREFIX + f for f in INDEXED_FIELDS["audit_trail"]),
                          "body"]
    assert {made[COLUMN_PREFIX + f] for f in INDEXED_FIELDS["audit_trail"]} == {3}
    indexed = index_sql(path, "c_audit_trail")
    assert all(f'("{COLUMN_PREFIX}{name}", id)' in indexed
               for name in INDEXED_FIELDS["audit_trail"])
    assert "json_extract" not in indexed


def test_a_store_made_before_fields_had_columns_is_brought_up_to_date_on_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    old_store(path)

    store = SQLiteReadStore(path)
    page = store.find("feedback", {"team_id": "team-1"}, order_by="received_at")
    later = store.find("feedback", {"received_at": Range(gte="2024-01-03")})
    store.close()

    assert [d["_id"] for d in page.items] == ["fb-1", "fb-3"]
    assert [d["_id"] for d in later.items] == ["fb-2", "fb-3"]
    made = columns(path, "c_feedback")
    assert {made[COLUMN_PREFIX + f] for f in INDEXED_FIELDS["feedback"]} == {2}  # virtual
    indexed = index_sql(path, "c_feedback")
    assert "json_extract" not in indexed  # the old indexes are gone, ...
    assert all(f'("{COLUMN_PREFIX}{name}", id)' in indexed  # ... each remade on its column
               for name in INDEXED_FIELDS["feedback"])
    plan = query_plan(path, f'SELECT id FROM c_feedback WHERE "{COLUMN_PREFIX}team_id" = ? '
                      f'ORDER BY "{COLUMN_PREFIX}received_at", id', "team-1")
    assert "USING INDEX ix_feedback_team_id_received_at" in plan and "TEMP B-TREE" not in plan


def test_a_table_made_before_a_field_was_catalogued_gets_its_column_and_index_on_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    monkeypatch.setitem(INDEXED_FIELDS, "feedback", ("team_id", "kind"))
    monkeypatch.delitem(LIST_ORDERS, "feedback")
    store = SQLiteReadStore(path)  # as a store of an older catalog made it
    store.commit({("feedback", f"fb-{n}"): feedback(n) for n in range(4)}, ("test", 4))
    store.close()
    monkeypatch.undo()
    assert f"{COLUMN_PREFIX}received_at" not in columns(path, "c_feedback")

    store = SQLiteReadStore(path)
    page = store.find("feedback", {"team_id": "team-0"}, order_by="received_at")
    store.close()

    assert [d["_id"] for d in page.items] == ["fb-0", "fb-2"]
    assert columns(path, "c_feedback")[f"{COLUMN_PREFIX}received_at"] == 2
    indexed = index_sql(path, "c_feedback")
    assert f'("{COLUMN_PREFIX}received_at", id)' in indexed
    assert f'("{COLUMN_PREFIX}team_id", "{COLUMN_PREFIX}received_at", id)' in indexed


def test_opening_again_adds_no_second_index(tmp_path: Path) -> None:
    path = tmp_path / "readmodels.sqlite"
    old_store(path)
    SQLiteReadStore(path).close()
    before = index_sql(path, "c_feedback").count("CREATE INDEX")

    SQLiteReadStore(path).close()

    assert index_sql(path, "c_feedback").count("CREATE INDEX") == before


def test_a_teams_list_is_read_in_its_order_off_one_index_without_sorting(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()
    order = f'ORDER BY "{COLUMN_PREFIX}received_at", id LIMIT 51'

    by_team = query_plan(path, "SELECT id, body FROM c_feedback WHERE "
                         f'"{COLUMN_PREFIX}team_id" = ? {order}', "team-1")
    everyone = query_plan(path, f"SELECT id, body FROM c_feedback {order}")

    assert "USING INDEX ix_feedback_team_id_received_at" in by_team
    assert "USING INDEX ix_feedback_received_at" in everyone
    assert "TEMP B-TREE" not in by_team + everyone


def test_the_late_records_are_read_off_their_own_index_not_a_scan_of_the_trail(
    tmp_path: Path,
) -> None:
    """The ``backdated_entry`` control's query (on every findings request): the few
    ``recorded_late`` records, in ``position`` order."""
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()

    plan = query_plan(path, "SELECT id, body FROM c_audit_trail WHERE "
                      f'"{COLUMN_PREFIX}recorded_late" = ? '
                      f'ORDER BY "{COLUMN_PREFIX}position", id LIMIT 1001', 1)

    assert "USING INDEX ix_audit_trail_recorded_late" in plan


def test_bringing_an_old_table_up_to_date_is_told_and_a_new_store_says_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    """On a store of a million events it takes minutes: the operator is told why the
    server is not ready yet, and how long it took."""
    old, new = tmp_path / "old.sqlite", tmp_path / "new.sqlite"
    old_store(old)

    with caplog.at_level("WARNING", logger="infra.read_store.sqlite_schema"):
        SQLiteReadStore(new).close()
        assert caplog.messages == []
        SQLiteReadStore(old).close()

    assert any("bringing table c_feedback up to date, once" in m for m in caplog.messages)
    assert any(m.startswith("read store: table c_feedback up to date in") for m in caplog.messages)
