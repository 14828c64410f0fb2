"""Read-your-writes in distributed mode: has the event at a position reached the read
models yet?

Projectors apply partitions independently, so there is no one checkpoint to compare
with: an event counts as applied once its own audit record is stored (the MongoDB store
writes ``audit_trail`` last in each batch, see :mod:`infra.read_store.port`). Positions
of private records (idempotency keys) stand for the public event saved just before
them, and a position with no public event at or before it is applied at once. The
embedded mode needs none of this: its follower knows its position
(:meth:`infra.projecting.follower.EmbeddedFollower.wait_for`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from domain.ledger import Ledger
from infra.event_store.log import read_envelopes
from infra.read_store.port import ReadStore
from projections import audit_trail

FIRST_POLL = 0.02
"""Seconds before the first re-check; doubled each time up to :data:`MAX_POLL`."""
MAX_POLL = 0.25


def public_event_at_or_before(ledger: Ledger, position: int) -> str:
    """The id of the public event at ``position``; positions of internal records
    (idempotency keys) stand for the public event saved just before them. ``""``
    when there is none."""
    start = max(0, position - 16)
    envelopes, _ = read_envelopes(ledger, start, position - start)
    before = [e for e in envelopes if e.position <= position]
    return max(before, key=lambda e: e.position).id if before else ""


def last_public_position(ledger: Ledger, position: int) -> int:
    """The position of the last public event at or before ``position`` (0: none).
    Private records (idempotency keys) are never published, so a projector's
    checkpoint never reaches them: lag is counted against this, not the head."""
    end, window = position, 16
    while end > 0:
        start = max(0, end - window)
        envelopes, _ = read_envelopes(ledger, start, end - start)
        public = [e.position for e in envelopes if e.position <= end]
        if public:
            return max(public)
        end, window = start, min(window * 4, 4096)
    return 0


def audited(store: ReadStore, event_id: str) -> bool:
    """Whether the event's audit record is stored (``""``: no event to wait for). By
    id: the one read FerretDB v1 answers from an index."""
    return event_id == "" or store.get(audit_trail.COLLECTION, event_id) is not None


def wait_until_audited(ledger: Ledger, store: ReadStore, position: int, timeout: float) -> bool:
    """Block until the event at ``position`` is applied, or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL
    target: str | None = None  # the audit record's id ("" when there is none)
    while True:
        if target is None and position <= ledger.head_position():
            target = public_event_at_or_before(ledger, position)
        if target is not None and audited(store, target):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, MAX_POLL)


async def poll_audited(is_audited: Callable[[], Awaitable[bool]], timeout: float) -> bool:
    """Await ``is_audited()`` turning true, sleeping between polls (no thread is held);
    False after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = FIRST_POLL
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        await asyncio.sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL)
        if await is_audited():
            return True
