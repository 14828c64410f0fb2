"""Reading the event store's notification log as public envelopes, in position order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from domain.aggregate import LedgerAggregate
from domain.envelope import EventEnvelope, envelope_of
from domain.ledger import Ledger
from infra.event_store import LedgerRecorder
from infra.personal.mapper import sealed_reader


def read_envelopes(
    ledger: Ledger, after: int, limit: int
) -> tuple[list[EventEnvelope], int]:
    """Up to ``limit`` stored events after ``after``, and the last position read.

    Records that are not public events (idempotency keys) are passed over, but the
    returned position still moves past them.
    """
    notifications = ledger.recorder.select_notifications(after + 1, limit)
    read = sealed_reader(ledger.mapper)  # as stored: personal data stays sealed
    envelopes = []
    last = after
    for n in notifications:
        last = n.id
        event = read(n)
        if isinstance(event, LedgerAggregate.Event):
            envelopes.append(envelope_of(event, n.id))
    return with_hashes(ledger, envelopes), last


def with_hashes(ledger: Ledger, envelopes: list[EventEnvelope]) -> list[EventEnvelope]:
    """Attach each event's hash-chain link, where the recorder keeps a chain."""
    recorder = ledger.recorder
    if not envelopes or not isinstance(recorder, LedgerRecorder):
        return envelopes
    first = envelopes[0].position
    rows = {r[0]: r for r in recorder.hashes(first, envelopes[-1].position - first + 1)}
    return [
        replace(e, prev_hash=rows[e.position][2], hash=rows[e.position][3])
        if e.position in rows else e
        for e in envelopes
    ]


def iter_envelopes(ledger: Ledger, after: int = 0, batch: int = 5000,
                   until: int | None = None) -> Iterator[EventEnvelope]:
    """Every public event after ``after`` (up to ``until``), in position order, read
    ``batch`` positions at a time by the fast path (:mod:`.fast_read`), which is checked
    against :func:`read_envelopes` on every page."""
    from infra.event_store.fast_read import fast_envelopes

    return fast_envelopes(ledger, after, batch, until)
