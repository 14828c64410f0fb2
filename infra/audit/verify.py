"""``opsledger verify``: walk the hash chain and name the first broken link.

Over the store, every public event is re-encoded and re-hashed and compared with
the chain rows written at insert time; over Kafka, every message's ``prevhash`` and
``hash`` are checked against its content and its predecessor. Either way the first
problem found is reported with its position and its kind:

- ``altered``: the event's content is not what was chained, or the stored event (the
  Kafka record) cannot even be decoded any more;
- ``missing``: an event (or a link) that was chained is gone;
- ``inserted``: an event is present that was never chained;
- ``reordered``: an event sits at a position other than the one it was chained at;
- ``duplicated``: (Kafka) the same position appears twice with different content.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from domain.aggregate import LedgerAggregate
from domain.envelope import EventEnvelope, envelope_of
from domain.ledger import Ledger
from infra.event_store import ledger_recorder
from infra.event_store.hash_chain import GENESIS, canonical_bytes, envelope_bytes, link
from infra.personal.mapper import sealed_reader

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
    cause: str = ""
    """What failed underneath, e.g. the decoder's error (for the operator, not the verdict)."""
    where: str = ""
    """Where a broken record is when its position is unknown (Kafka: topic, partition,
    offset of a record whose value names no position)."""

    def describe(self) -> str:
        if self.ok:
            return (f"OK: {self.count} events verified, head position {self.head_position}, "
                    f"head hash {self.head_hash}")
        if self.kind == ALTERED and self.detail == UNDECODABLE:
            at = (f"position {self.broken_at}" if self.broken_at is not None
                  else f"an unknown position ({self.where})")
            return f"BROKEN at {at}: {self.kind} ({self.detail})"
        return f"BROKEN at position {self.broken_at}: {self.kind}: {self.detail}"


ALTERED = "altered"
UNDECODABLE = "the stored event cannot be decoded"


def _broken(count: int, position: int, kind: str, detail: str, prev: str,
            cause: str = "") -> VerifyResult:
    return VerifyResult(False, count, position, prev, position, kind, detail, cause)


def _undecodable(count: int, position: int, prev: str, cause: str) -> VerifyResult:
    return _broken(count, position, ALTERED, UNDECODABLE, prev, cause)


def _error(e: BaseException) -> str:
    return f"{type(e).__name__}: {e}"


def verify_store(
    ledger: Ledger, *, start: int = 1, batch: int = 1000, progress: Progress | None = None,
) -> VerifyResult:
    recorder = ledger_recorder(ledger)
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
        events: dict[int, EventEnvelope] = {}
        undecodable: dict[int, str] = {}
        for n in notifications:
            # A changed byte may leave the JSON (or the topic) impossible to decode:
            # that is an alteration like any other, never a crash.
            try:
                event = sealed_reader(ledger.mapper)(n)
                if isinstance(event, LedgerAggregate.Event):
                    events[n.id] = envelope_of(event, n.id)
            except Exception as e:
                undecodable[n.id] = _error(e)
        for p in sorted(events.keys() | rows.keys() | undecodable.keys()):
            if p in undecodable:
                return _undecodable(count, p, prev, undecodable[p])
            row = rows.get(p)
            envelope = events.get(p)
            if envelope is None:
                return _broken(count, p, "missing",
                               f"the event chained at position {p} is no longer stored", prev)
            if row is None:
                return _broken(count, p, "inserted",
                               f"event {envelope.id} ({envelope.type}) was never chained", prev)
            _, event_id, row_prev, row_hash = row
            if row_prev != prev:
                return _broken(count, p, "missing",
                               "the link before this position is gone: an earlier event "
                               "or its chain entry was deleted or rewritten", prev)
            try:
                canonical = envelope_bytes(envelope)
            except Exception as e:  # decoded into values that no longer encode
                return _undecodable(count, p, prev, _error(e))
            if link(prev, canonical) != row_hash:
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


@dataclass(frozen=True)
class UndecodableRecord:
    """A record (e.g. read from Kafka) whose value cannot be decoded into a CloudEvent."""

    position: int | None
    """The position it names elsewhere (a ``ce_position`` header, the raw bytes), if any."""
    where: str
    """Where it is (topic, partition, offset)."""
    error: str


def _position_of(ce: dict[str, Any]) -> int | None:
    p = ce.get("position")
    if isinstance(p, bool):
        return None
    if isinstance(p, int):
        return p
    if isinstance(p, str) and p.isdigit():
        return int(p)
    return None


def verify_cloudevents(
    records: Iterable[dict[str, Any]], *, start: int = 1, progress: Progress | None = None,
    undecodable: Iterable[UndecodableRecord] = (),
) -> VerifyResult:
    """Verify CloudEvents (e.g. read from Kafka) by their ``prevhash``/``hash``
    extensions. Records may come in any order; they are checked in position order.

    ``undecodable``: records that could not be decoded at all; each is reported as
    ``altered`` at its position (they are checked in order with the others), or,
    when nothing names its position, before anything else."""
    by_position: dict[int, dict[str, Any]] = {}
    garbled: dict[int, UndecodableRecord] = {}
    for bad in undecodable:
        if bad.position is None:
            return replace(_undecodable(0, 0, GENESIS, bad.error), broken_at=None,
                           head_position=0, where=bad.where)
        if bad.position >= start:
            garbled.setdefault(bad.position, bad)
    for ce in records:
        p = _position_of(ce)
        if p is None:
            return replace(_undecodable(0, 0, GENESIS, "the CloudEvent names no position"),
                           broken_at=None, head_position=0,
                           where=f"event {ce.get('id')!r}")
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
    for p in sorted(by_position.keys() | garbled.keys()):
        if p in garbled:
            return _undecodable(count, p, prev or GENESIS, garbled[p].error)
        ce = by_position[p]
        stated_prev, stated_hash = ce.get("prevhash"), ce.get("hash")
        if not stated_prev or not stated_hash:
            return _broken(count, p, "inserted", "the event carries no hash chain fields",
                           prev or GENESIS)
        if prev is not None and stated_prev != prev:
            return _broken(count, p, "missing",
                           f"its prevhash does not match the event before it (position "
                           f"{last}): an event is missing or out of place", prev)
        try:
            chained = link(str(stated_prev), canonical_bytes(ce))
        except (ValueError, TypeError) as e:  # a prevhash that is not hex
            return _broken(count, p, ALTERED,
                           f"the hash chain fields of event {ce.get('id')} are malformed",
                           stated_prev if isinstance(stated_prev, str) else GENESIS, _error(e))
        if chained != stated_hash:
            return _broken(count, p, "altered",
                           f"the content of event {ce.get('id')} does not match its hash",
                           stated_prev)
        prev = stated_hash
        last = p
        count += 1
        if progress is not None:
            progress(p)
    return VerifyResult(True, count, last, prev or GENESIS)
