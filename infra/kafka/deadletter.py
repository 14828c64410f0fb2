"""Operating the dead-letter topic: list, replay, skip (``opsledger deadletter ...``).

The projector (:mod:`infra.kafka.projector`) dead-letters a record it cannot apply,
parks the record's aggregate, and dead-letters every later record of that aggregate
too (reason ``parked behind <offset>``). These functions are the operator's side:

- :func:`list_deadletters` reads the dead-letter topic from its start (it is small
  and kept forever) and joins each record with the operator decisions recorded in
  the read store. A record dead-lettered twice (redelivery after a crash between the
  dead-letter publish and the offset commit) is listed once.
- :func:`replay` re-applies the pending dead letters of one aggregate, in their
  original order (origin partition offset), *through the same fold path* as the
  projector: decode, upcast, :func:`projections.engine.fold_events` against the
  store, ``store.commit``. It folds them directly into the store rather than
  re-publishing them to the origin topic: the context topics are the published,
  hash-chained event contract that other services and auditors read, and a second
  copy of an event there would be visible to all of them. Replay is all or nothing:
  if any pending record still fails (not decodable, unknown type, a fold raising),
  nothing is written and the aggregate stays parked; skip that record, or deploy the
  fix (an upcaster, a fold change), and replay again.
- :func:`skip` marks dead letters as skipped (never applied); when an aggregate has
  no pending dead letter left, it is unparked.

Every decision is recorded in ``deadletter_decisions`` (one document per original
record: ``<group>:<topic>:<partition>:<offset>``, with who, when, why) and on the
aggregate's ``parked`` document (status ``released``, the decision and its author).

Order of writes: the folded documents first, then the decisions and the release;
a crash in between leaves the aggregate parked with its documents already applied,
and running the replay again re-folds nothing (every document has seen the events)
and records the decision.

Concurrency with running projectors: while an aggregate is parked, its new records
keep going to the dead-letter topic. After releasing it, :func:`replay` lists the
topic again and applies what arrived meanwhile. A record dead-lettered in the short
window after that last look is not lost: its successors then fail the compliance
history's gap check, which parks the aggregate again for another replay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from domain.envelope import EventEnvelope
from infra.kafka.projector.poison import PARKED, decode_record, is_parked, now_iso
from infra.kafka.topics import Topics
from infra.read_store.port import ReadStore
from projections.engine import DocKey, fold_events
from projections.fold import Document, Fold
from projections.registry import ALL_FOLDS

log = logging.getLogger(__name__)

DECISIONS = "deadletter_decisions"
PENDING, SKIPPED, REPLAYED = "pending", "skipped", "replayed"


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered record, as the dead-letter topic and the decisions tell it."""

    dlq_offset: int
    key: str | None
    reason: str
    origin_topic: str
    origin_partition: int
    origin_offset: int
    failed_at: str
    group: str
    attempts: int
    value: bytes | None = field(repr=False)
    headers: tuple[tuple[str, bytes], ...] = field(repr=False)
    event_type: str | None = None
    stream_version: int | None = None
    position: int | None = None
    status: str = PENDING
    decision: Mapping[str, Any] | None = None
    own_error: str | None = None
    """Why this record itself could not be applied, when it was parked behind another."""

    @property
    def origin(self) -> str:
        return f"{self.origin_topic}/{self.origin_partition}@{self.origin_offset}"

    @property
    def decision_id(self) -> str:
        return decision_id(self.group, self.origin_topic, self.origin_partition,
                           self.origin_offset)

    def as_row(self) -> dict[str, Any]:
        """What ``opsledger deadletter list`` prints."""
        return {
            "dlq_offset": self.dlq_offset, "key": self.key, "status": self.status,
            "reason": self.reason, "origin": self.origin, "event_type": self.event_type,
            "stream_version": self.stream_version, "position": self.position,
            "failed_at": self.failed_at, "group": self.group, "own_error": self.own_error,
            "decided_by": (self.decision or {}).get("by"),
            "decided_at": (self.decision or {}).get("at"),
        }


@dataclass(frozen=True)
class ReplayResult:
    key: str | None
    replayed: list[int]
    """Dead-letter offsets applied, in order."""
    documents: int
    """Documents the replay wrote (0 if everything was already applied)."""
    unparked: bool
    error: str | None = None
    failed_dlq_offset: int | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SkipResult:
    skipped: list[int]
    unparked: list[str]


def decision_id(group: str, topic: str, partition: int, offset: int) -> str:
    return f"{group}:{topic}:{partition}:{offset}"


# -- reading the topic ------------------------------------------------------------------


def _header(headers: Sequence[tuple[str, bytes]], name: str, default: str = "") -> str:
    for k, v in reversed(headers):  # the projector appends its own after the originals
        if k == name:
            return v.decode("utf-8", "replace") if v is not None else default
    return default


def read_deadletter_topic(
    bootstrap: str, topics: Topics, *, timeout_s: float = 30.0
) -> list[DeadLetter]:
    """Every record of the dead-letter topic, in topic order (no decisions joined)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
        isolation_level="read_committed", client_id="opsledger-deadletter-reader",
        allow_auto_create_topics=False,
    )
    try:
        partitions = consumer.partitions_for_topic(topics.deadletter) or set()
        tps = [TopicPartition(topics.deadletter, p) for p in sorted(partitions)]
        if not tps:
            return []
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topics.deadletter} to its end")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close(autocommit=False)
    records.sort(key=lambda r: (r.partition, r.offset))
    return [_dead_letter(r) for r in records]


def _dead_letter(record: Any) -> DeadLetter:
    headers = tuple(record.headers or ())
    event_type = stream_version = position = None
    try:
        envelope = decode_record(record.value)
        event_type, stream_version, position = (
            envelope.type, envelope.stream_version, envelope.position
        )
    except Exception:  # noqa: S110 - undecodable is exactly why some are here
        pass
    return DeadLetter(
        dlq_offset=record.offset,
        key=record.key.decode("utf-8", "replace") if record.key else None,
        reason=_header(headers, "dlq_reason"),
        origin_topic=_header(headers, "dlq_origin_topic"),
        origin_partition=int(_header(headers, "dlq_origin_partition", "-1") or -1),
        origin_offset=int(_header(headers, "dlq_origin_offset", "-1") or -1),
        failed_at=_header(headers, "dlq_failed_at"),
        group=_header(headers, "dlq_group"),
        attempts=int(_header(headers, "dlq_attempts", "0") or 0),
        value=record.value, headers=headers, event_type=event_type,
        stream_version=stream_version, position=position,
        own_error=_header(headers, "dlq_error") or None,
    )


def list_deadletters(
    bootstrap: str, topics: Topics, store: ReadStore, *, group: str | None = None,
    key: str | None = None, status: str | None = None,
) -> list[DeadLetter]:
    """The dead letters (of ``group``, of aggregate ``key``, with ``status``), each
    original record once, in dead-letter order, with the operator's decision."""
    seen: set[str] = set()
    letters: list[DeadLetter] = []
    for letter in read_deadletter_topic(bootstrap, topics):
        if group is not None and letter.group != group:
            continue
        if key is not None and letter.key != key:
            continue
        if letter.decision_id in seen:
            continue
        seen.add(letter.decision_id)
        letters.append(letter)
    decisions = store.get_many(DECISIONS, [x.decision_id for x in letters]) if letters else {}
    result = []
    for letter in letters:
        decision = decisions.get(letter.decision_id)
        if decision is not None:
            letter = _with_decision(letter, decision)
        if status is None or letter.status == status:
            result.append(letter)
    return result


def _with_decision(letter: DeadLetter, decision: Mapping[str, Any]) -> DeadLetter:
    return replace(letter, status=decision.get("decision", PENDING), decision=dict(decision))


def parked_aggregates(store: ReadStore) -> list[Document]:
    """The aggregates parked now (``opsledger deadletter list --parked``)."""
    return list(store.iter_find(PARKED, {"status": "parked"}))


# -- decisions ---------------------------------------------------------------------------


def _decision_doc(letter: DeadLetter, decision: str, actor: str, reason: str,
                  at: str) -> Document:
    return {
        "_id": letter.decision_id, "decision": decision, "by": actor, "at": at,
        "reason": reason, "key": letter.key, "group": letter.group,
        "origin": {"topic": letter.origin_topic, "partition": letter.origin_partition,
                   "offset": letter.origin_offset},
        "dlq_offset": letter.dlq_offset, "dlq_reason": letter.reason,
        "event_type": letter.event_type,
    }


def _released(store: ReadStore, key: str, decision: str, actor: str, reason: str,
              at: str, dlq_offsets: list[int]) -> Document | None:
    doc = store.get(PARKED, key)
    if not is_parked(doc):
        return None
    released = {k: v for k, v in (doc or {}).items() if not k.startswith("_")}
    history = list(released.get("history") or [])
    history.append({"decision": decision, "by": actor, "at": at, "reason": reason,
                    "dlq_offsets": dlq_offsets})
    released.update({
        "_id": key, "status": "released", "decision": decision, "released_by": actor,
        "released_at": at, "history": history,
    })
    return released


def _group_of(letters: Sequence[DeadLetter], group: str | None) -> str:
    if group is not None:
        return group
    groups = {x.group for x in letters}
    if len(groups) > 1:
        raise ValueError(f"dead letters of several groups ({', '.join(sorted(groups))}): "
                         "name the group")
    return groups.pop() if groups else ""


def skip(
    bootstrap: str, topics: Topics, store: ReadStore, *, actor: str, reason: str,
    key: str | None = None, dlq_offsets: Sequence[int] = (), group: str | None = None,
) -> SkipResult:
    """Mark dead letters skipped: every pending one of ``key``, or those at
    ``dlq_offsets``. An aggregate left with no pending dead letter is unparked.

    Skipping a whole aggregate also gives up its valid records parked behind the
    poison; usually skip the poison by offset and :func:`replay` the rest."""
    if not actor.strip() or not reason.strip():
        raise ValueError("a skip needs the operator (actor) and a reason")
    if key is None and not dlq_offsets:
        raise ValueError("name an aggregate (key) or dead-letter offsets to skip")
    pending = list_deadletters(bootstrap, topics, store, group=group, status=PENDING)
    wanted = set(dlq_offsets)
    chosen = [x for x in pending if (key is not None and x.key == key) or x.dlq_offset in wanted]
    missing = wanted - {x.dlq_offset for x in chosen}
    if missing:
        raise LookupError(f"no pending dead letter at offset(s) {sorted(missing)}")
    at = now_iso()
    changes: dict[DocKey, Document] = {
        (DECISIONS, x.decision_id): _decision_doc(x, SKIPPED, actor, reason, at) for x in chosen
    }
    unparked: list[str] = []
    chosen_offsets = {x.dlq_offset for x in chosen}
    left = {x.key for x in pending if x.dlq_offset not in chosen_offsets}
    candidates = {x.key for x in chosen if x.key is not None} | ({key} if key else set())
    for k in sorted(candidates - left):
        released = _released(store, k, SKIPPED, actor, reason, at,
                             [x.dlq_offset for x in chosen if x.key == k])
        if released is not None:
            changes[(PARKED, k)] = released
            unparked.append(k)
    if changes:
        store.commit(changes, (f"{_group_of(chosen, group)}.deadletter", 0))
    log.info("dead letters %s skipped by %s: %s", [x.dlq_offset for x in chosen], actor, reason)
    return SkipResult([x.dlq_offset for x in chosen], unparked)


def replay(
    bootstrap: str, topics: Topics, store: ReadStore, *, actor: str, reason: str = "",
    key: str | None = None, dlq_offset: int | None = None, group: str | None = None,
    folds: Sequence[Fold] = ALL_FOLDS,
) -> ReplayResult:
    """Re-apply the pending dead letters of aggregate ``key`` in their original order
    (or, given ``dlq_offset``, those of its aggregate up to that one), then unpark the
    aggregate if none is left pending. All or nothing."""
    if not actor.strip():
        raise ValueError("a replay needs the operator (actor)")
    pending = list_deadletters(bootstrap, topics, store, group=group, status=PENDING)
    if dlq_offset is not None:
        target = next((x for x in pending if x.dlq_offset == dlq_offset), None)
        if target is None:
            raise LookupError(f"no pending dead letter at offset {dlq_offset}")
        key = target.key
    if key is None:
        raise ValueError("name an aggregate (key) or a dead-letter offset to replay")
    mine = sorted((x for x in pending if x.key == key),
                  key=lambda x: (x.origin_partition, x.origin_offset))
    if dlq_offset is not None:
        cut = next(i for i, x in enumerate(mine) if x.dlq_offset == dlq_offset)
        mine = mine[: cut + 1]
    result = _replay_letters(store, mine, key, actor, reason, group, folds)
    if not result.ok or not result.unparked:
        return result
    # Records parked behind while we replayed: apply them too (see the module notes).
    late = list_deadletters(bootstrap, topics, store, group=group, key=key, status=PENDING)
    if late:
        more = _replay_letters(store, sorted(late, key=lambda x: (x.origin_partition,
                                                                   x.origin_offset)),
                               key, actor, reason, group, folds, unpark=False)
        return ReplayResult(key, result.replayed + more.replayed,
                            result.documents + more.documents, True, more.error,
                            more.failed_dlq_offset)
    return result


def _replay_letters(
    store: ReadStore, letters: list[DeadLetter], key: str, actor: str, reason: str,
    group: str | None, folds: Sequence[Fold], *, unpark: bool = True,
) -> ReplayResult:
    envelopes: list[EventEnvelope] = []
    for letter in letters:
        try:
            envelopes.append(decode_record(letter.value))
        except Exception as e:
            return ReplayResult(key, [], 0, False, f"{type(e).__name__}: {e}",
                                letter.dlq_offset)
    changes: dict[DocKey, Document] = {}

    def read(collection: str, doc_id: str) -> Document | None:
        k = (collection, doc_id)
        return changes[k] if k in changes else store.get(collection, doc_id)

    for letter, envelope in zip(letters, envelopes, strict=True):
        try:
            changes.update(fold_events([envelope], folds, read))
        except Exception as e:
            return ReplayResult(key, [], 0, False, f"{type(e).__name__}: {e}",
                                letter.dlq_offset)
    name = f"{_group_of(letters, group)}.deadletter"
    position = max((e.position for e in envelopes), default=0)
    if changes:
        store.commit(changes, (name, position))
    at = now_iso()
    offsets = [x.dlq_offset for x in letters]
    decisions: dict[DocKey, Document] = {
        (DECISIONS, x.decision_id): _decision_doc(x, REPLAYED, actor, reason, at)
        for x in letters
    }
    released = None
    if unpark:
        released = _released(store, key, REPLAYED, actor, reason, at, offsets)
        if released is not None:
            decisions[(PARKED, key)] = released
    if decisions:
        store.commit(decisions, (name, position))
    log.info("dead letters %s of %s replayed by %s (%d documents)", offsets, key, actor,
             len(changes))
    return ReplayResult(key, offsets, len(changes), released is not None)
