"""The audit trail as a JSONL or CSV stream, in bounded memory.

Records are read page by page (keyset pagination) and written in chunks, so the
memory used does not grow with the size of the trail.

CSV cells are made safe to open in a spreadsheet here, in one place (:func:`csv_cell`),
for the HTTP export and the ``opsledger audit export`` command alike. JSONL keeps every
value exactly as recorded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import orjson

from infra.read_store.port import Filters, ReadStore
from projections.fold import public

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP, CSV injection)."""
NUL_SHOWN_AS = "\u2400"  # SYMBOL FOR NULL: visible, and never a raw NUL byte in a file


def csv_cell(value: Any) -> str:
    """One CSV cell as text that no spreadsheet runs: a cell that starts with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
    advice; the writer quotes cells holding separators or quotes), and each NUL is
    written as U+2400. ``None`` is an empty cell."""
    text = "" if value is None else str(value)
    if "\x00" in text:
        text = text.replace("\x00", NUL_SHOWN_AS)
    if text.startswith(FORMULA_TRIGGERS):
        text = "'" + text
    return text


CSV_COLUMNS = (
    "position", "time", "actor", "type", "entity_id", "entity_version", "reason",
    "id", "correlation_id", "causation_id", "prev_hash", "hash", "data", "recorded_at",
    "sealed",
)
"""``time`` is when the event happened; ``recorded_at`` (added last, so the columns
before it keep their places) when it was recorded: empty for records folded before
the field existed, whose ``time`` is the recording time. ``sealed`` (last too): the
stored ciphertext of each personal value that ``data`` shows opened, as JSON (path to
ciphertext), so a row can still be re-hashed; empty when it holds no personal data."""


JSON_COLUMNS = frozenset({"data", "sealed"})


def export_chunks(store: ReadStore, filters: Filters, fmt: str,
                  chunk: int = 1000) -> Iterator[bytes]:
    clean = {k: v for k, v in filters.items() if v is not None}
    records = store.iter_find("audit_trail", clean, order_by="position", chunk=chunk)
    if fmt == "jsonl":
        lines: list[bytes] = []
        for record in records:
            lines.append(orjson.dumps(public(record)))
            if len(lines) >= 500:
                yield b"\n".join(lines) + b"\n"
                lines.clear()
        if lines:
            yield b"\n".join(lines) + b"\n"
        return
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, record in enumerate(records, 1):
        row: dict[str, Any] = public(record) or {}
        writer.writerow([
            csv_cell(orjson.dumps(row.get(c)).decode() if c in JSON_COLUMNS and row.get(c)
                     else row.get(c))
            for c in CSV_COLUMNS
        ])
        if n % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
