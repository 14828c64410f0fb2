"""Runs of documents for one MongoDB command: bounded by count and by bytes, each
document encoded once (what is sent is the encoding the size was measured on)."""

from __future__ import annotations

import bson
import pytest
from bson.raw_bson import RawBSONDocument

from infra.read_store import mongo_commands
from infra.read_store.mongo_commands import batches


def test_items_come_back_encoded_once_in_runs_of_at_most_max_items() -> None:
    items = [{"_id": f"d-{i}", "n": i, "nested": {"streams": {"s": i}}} for i in range(5)]

    runs = list(batches(items, 2))

    assert [len(run) for run in runs] == [2, 2, 1]
    assert all(isinstance(raw, RawBSONDocument) for run in runs for raw in run)
    assert [bson.decode(raw.raw) for run in runs for raw in run] == items


def test_a_run_ends_before_it_would_pass_the_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [{"_id": f"d-{i}", "pad": "x" * 100} for i in range(4)]
    size = len(bson.encode(items[0]))
    monkeypatch.setattr(mongo_commands, "MAX_BYTES", 2 * size + 1)

    assert [len(run) for run in batches(items, 1000)] == [2, 2]
