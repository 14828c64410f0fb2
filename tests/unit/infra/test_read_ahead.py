"""The event log read ahead by a child process yields exactly what ``iter_envelopes``
yields, reports the child's failure as an error, and stops the child when its reader
stops."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.history import World, drive
from benchmarks.replay_data import erase_some
from infra.event_store import close_ledger, open_ledger
from infra.event_store.log import iter_envelopes
from infra.event_store.read_ahead import LogReaderError, ReadAhead
from infra.settings import Settings


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose store the domain made, with sealed personal data and an
    erasure."""
    made: Path = tmp_path_factory.mktemp("store")
    ledger = open_ledger(Settings(data_dir=made))
    world = World(random.Random(5), datetime(2026, 1, 5, 9, 0, tzinfo=UTC), ledger,
                  customers=1.0)
    drive(world, 150, teams=2, members=3)
    erase_some(world, ledger)
    close_ledger(ledger)
    return made


def in_process(folder: Path, after: int = 0, until: int | None = None) -> list[object]:
    ledger = open_ledger(Settings(data_dir=folder))
    try:
        return list(iter_envelopes(ledger, after, until=until))
    finally:
        close_ledger(ledger)


def test_the_child_reads_every_event_as_the_log_is_read_in_process(folder: Path) -> None:
    expected = in_process(folder)
    assert len(expected) > 100

    read = ReadAhead(folder, batch=7)

    assert list(read) == expected
    assert read.reader_rss_mb > 0


def test_the_child_reads_after_and_up_to_a_position(folder: Path) -> None:
    assert list(ReadAhead(folder, 40, until=90, batch=9)) == in_process(folder, 40, 90)


def test_a_child_that_cannot_read_the_store_is_an_error_saying_why(tmp_path: Path) -> None:
    with pytest.raises(LogReaderError, match="no event store"):
        list(ReadAhead(tmp_path / "nowhere"))


def test_a_reader_that_stops_early_stops_the_child(folder: Path) -> None:
    read = ReadAhead(folder, batch=5)
    events = read.__iter__()
    next(events)

    events.close()

    assert read._child.poll() is not None


def test_closing_a_read_never_started_stops_the_child(folder: Path) -> None:
    read = ReadAhead(folder, batch=5)

    read.close()

    assert read._child.poll() is not None
