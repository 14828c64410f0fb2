"""``opsledger verify``: walk the hash chain and name the first broken link.

Over the store, every public event is re-encoded and re-hashed and compared with
the chain rows written at insert time; over Kafka, every message's ``prevhash`` and
``hash`` are checked against its content and its predecessor. Either way the first
problem found is reported with its position and its kind:

- ``altered``: the event's content is not what was chained;
- ``missing``: an event (or a link) that was chained is gone;
- ``inserted``: an event is present that was never chained;
- ``reordered``: an event sits at a position other than the one it was chained at;
- ``duplicated``: (Kafka) the same position appears twice with different content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from domain.aggregate import LedgerAggregate
from domain.envelope import envelope_of
from domain.ledger import Ledger
from infra.hash_chain import GENESIS, canonical_bytes, envelope_bytes, link

Progress = Callable[[int], None]


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    count: int
    head_position: int
    head_hash: str
    broken_at: int | None = None
    kind: str | None = None
    detail: str = ""

    def describe(self) -> str:
        if self.ok:
            return (f"OK: {self.count} events verified, head position {self.head_position}, "
                    f"head hash {self.head_hash}")
        return f"BROKEN at position {self.broken_at}: {self.kind}: {self.detail}"


def _broken(count: int, position: int, kind: str, detail: str, prev: str) -> VerifyResult:
    return VerifyResult(False, count, position, prev, position, kind, detail)


def verify_store(
    ledger: Ledger, *, start: int = 1, batch: int = 1000, progress: Progress | None = None,
) -> VerifyResult:
    recorder: Any = ledger.recorder
    start = max(start, 1)
    first = recorder.hashes(start, 1)
    prev = first[0][2] if first and start > 1 else GENESIS
    count = 0
    position = start - 1
    head = max(ledger.head_position(), recorder.head_hash()[0])
    while position < head:
        stop = position + batch
        notifications = ledger.recorder.select_notifications(position + 1, batch, stop=stop)
        rows = {r[0]: r for r in recorder.hashes(position + 1, batch * 2) if r[0] <= stop}
        events: dict[int, Any] = {}
        for n in notifications:
            event = ledger.mapper.to_domain_event(n)
            if isinstance(event, LedgerAggregate.Event):
                events[n.id] = event
        for p in sorted(events.keys() | rows.keys()):
            row = rows.get(p)
            event = events.get(p)
            if event is None:
                return _broken(count, p, "missing",
                               f"the event chained at position {p} is no longer stored", prev)
            envelope = envelope_of(event, p)
            if row is None:
                return _broken(count, p, "inserted",
                               f"event {envelope.id} ({envelope.type}) was never chained", prev)
            _, event_id, row_prev, row_hash = row
            if row_prev != prev:
                return _broken(count, p, "missing",
                               "the link before this position is gone: an earlier event "
                               "or its chain entry was deleted or rewritten", prev)
            if link(prev, envelope_bytes(envelope)) != row_hash:
                if envelope.id != event_id:
                    elsewhere = [r[0] for r in recorder.hashes(1, 10**9) if r[1] == envelope.id]
                    if elsewhere:
                        return _broken(count, p, "reordered",
                                       f"event {envelope.id} was chained at position "
                                       f"{elsewhere[0]}, not here", prev)
                return _broken(count, p, "altered",
                               f"the content of event {envelope.id} is not what was chained",
                               prev)
            prev = row_hash
            count += 1
            if progress is not None:
                progress(p)
        position = stop
    return VerifyResult(True, count, recorder.head_hash()[0], prev)


def verify_cloudevents(
    records: Iterable[dict[str, Any]], *, start: int = 1, progress: Progress | None = None,
) -> VerifyResult:
    """Verify CloudEvents (e.g. read from Kafka) by their ``prevhash``/``hash``
    extensions. Records may come in any order; they are checked in position order."""
    by_position: dict[int, dict[str, Any]] = {}
    for ce in records:
        p = int(ce["position"])
        if p < start:
            continue
        seen = by_position.get(p)
        if seen is not None and seen != ce:
            return _broken(0, p, "duplicated",
                           "two different events claim this position", GENESIS)
        by_position[p] = ce
    prev: str | None = GENESIS if start <= 1 else None
    count = 0
    last = start - 1
    for p in sorted(by_position):
        ce = by_position[p]
        stated_prev, stated_hash = ce.get("prevhash"), ce.get("hash")
        if not stated_prev or not stated_hash:
            return _broken(count, p, "inserted", "the event carries no hash chain fields",
                           prev or GENESIS)
        if prev is not None and stated_prev != prev:
            return _broken(count, p, "missing",
                           f"its prevhash does not match the event before it (position "
                           f"{last}): an event is missing or out of place", prev)
        if link(stated_prev, canonical_bytes(ce)) != stated_hash:
            return _broken(count, p, "altered",
                           f"the content of event {ce.get('id')} does not match its hash",
                           stated_prev)
        prev = stated_hash
        last = p
        count += 1
        if progress is not None:
            progress(p)
    return VerifyResult(True, count, last, prev or GENESIS)
