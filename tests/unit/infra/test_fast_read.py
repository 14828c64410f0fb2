"""Reading the log the fast way yields exactly what the reference path yields."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.history import World, drive
from benchmarks.replay_data import erase_some
from domain.envelope import EventEnvelope
from domain.ledger import Ledger
from infra.event_store import fast_read, open_ledger
from infra.event_store.log import iter_envelopes, read_envelopes
from infra.settings import Settings


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    """A SQLite store made by the domain: rosters with sealed names and emails,
    incidents, goals, feedback naming customers, and a customer's erasure."""
    folder: Path = tmp_path_factory.mktemp("store")
    ledger = open_ledger(Settings(data_dir=folder))
    world = World(random.Random(3), datetime(2026, 1, 5, 9, 0, tzinfo=UTC), ledger,
                   customers=1.0)
    drive(world, 400, teams=2, members=4)
    erase_some(world, ledger)
    return ledger


def reference(ledger: Ledger) -> list[EventEnvelope]:
    return read_envelopes(ledger, 0, ledger.head_position())[0]


def test_every_event_reads_the_same_as_by_the_reference_path(ledger: Ledger) -> None:
    expected = reference(ledger)
    assert {e.context for e in expected} >= {"teams", "incidents", "goals", "feedback",
                                             "privacy"}
    assert any(e.hash for e in expected)

    assert list(iter_envelopes(ledger, batch=64)) == expected


def test_a_read_from_a_position_up_to_another_is_that_slice(ledger: Ledger) -> None:
    expected = [e for e in reference(ledger) if 100 < e.position <= 250]

    assert list(fast_read.fast_envelopes(ledger, 100, 30, until=250)) == expected


def test_a_disagreement_with_the_reference_path_leaves_the_fast_path(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = fast_read.fast_envelope

    def wrong(*args: object) -> EventEnvelope:
        envelope = real(*args)  # type: ignore[arg-type]
        return EventEnvelope(**{**envelope.as_dict(), "actor": "user:nobody"})

    monkeypatch.setattr(fast_read, "fast_envelope", wrong)

    assert list(fast_read.fast_envelopes(ledger, page=50)) == reference(ledger)


def test_an_event_the_fast_path_cannot_read_is_read_the_reference_way(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = fast_read.fast_envelope

    def upcast_due(n: object, cls: fast_read.EventClass, link: object) -> EventEnvelope:
        if cls.context == "feedback":
            raise fast_read.SlowEventError("needs upcasting")
        return real(n, cls, link)  # type: ignore[arg-type]

    monkeypatch.setattr(fast_read, "fast_envelope", upcast_due)

    assert list(fast_read.fast_envelopes(ledger, page=50)) == reference(ledger)


@pytest.mark.parametrize("stored", [
    "2026-03-01T09:00:00.123456+00:00",  # isoformat() with microseconds
    "2026-03-01T09:00:00+00:00",  # isoformat() leaves them out when there are none
    "0999-12-31T23:59:59.000001+00:00",
    "2026-03-01T11:00:00.5+02:00",  # not what the store writes: the long way
    "2026-03-01T09:00:00",
])
def test_a_stored_time_reads_as_the_reference_path_reads_it(stored: str) -> None:
    from domain.envelope import iso_time

    assert fast_read.utc_time(stored) == iso_time(datetime.fromisoformat(stored))


@pytest.mark.parametrize("stored", ["0365a01d8c524e6c8efe2987851035f1",
                                    "00000000000000000000000000000000",
                                    "0365A01D8C524E6C8EFE2987851035F1"])
def test_a_stored_originator_id_reads_as_its_uuid(stored: str) -> None:
    from uuid import UUID

    assert fast_read.uuid_text(stored) == str(UUID(stored))
