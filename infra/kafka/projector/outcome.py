"""One polled batch and what becomes of it: decoded, checked against the parked
aggregates, folded (record by record where a fold fails), and what it dead-letters.

:class:`BatchFolder` computes a batch's :class:`Outcome` without writing anything; the
projector then publishes the dead letters, commits the changes and the offsets.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import OffsetAndMetadata, TopicPartition

from domain.envelope import EventEnvelope
from infra.kafka.projector.batch import BatchReader, fold_batch, overlay, owned_keys, store_call
from infra.kafka.projector.doc_cache import DocCache
from infra.kafka.projector.poison import (
    PARKED,
    StoreUnavailableError,
    decode_record,
    is_parked,
    now_iso,
    parked_doc,
)
from infra.read_store.port import ReadStore
from projections.engine import DocKey, fold_events
from projections.fold import Document, Fold

log = logging.getLogger(__name__)


@dataclass
class Item:
    """One record of a batch and what became of it."""

    tp: TopicPartition
    offset: int
    key: str | None
    record: Any
    envelope: EventEnvelope | None = None
    error: str | None = None
    attempts: int = 0
    dead_reason: str | None = None


@dataclass
class Outcome:
    changes: dict[DocKey, Document]
    dead: list[Item]
    position: int
    # Documents read before the batch (its folds' view of the store), and those of
    # them this member alone writes: the store may replace those by id.
    read: dict[DocKey, Document | None] = field(default_factory=dict)
    assumed: frozenset[DocKey] = frozenset()
    owned: frozenset[DocKey] = frozenset()
    dead_letters_sent: bool = False


@dataclass
class PolledBatch:
    """The records of one poll, by partition; kept (with its outcome) until applied."""

    by_tp: dict[TopicPartition, list[Item]]
    outcome: Outcome | None = None

    @classmethod
    def of(cls, polled: Mapping[TopicPartition, list[Any]]) -> PolledBatch:
        by_tp: dict[TopicPartition, list[Item]] = {}
        for tp, records in polled.items():
            by_tp[tp] = [
                Item(tp, r.offset, r.key.decode("utf-8", "replace") if r.key else None, r)
                for r in records
            ]
        return cls(by_tp)

    @property
    def size(self) -> int:
        return sum(len(items) for items in self.by_tp.values())

    def first_offsets(self) -> dict[TopicPartition, int]:
        return {tp: items[0].offset for tp, items in self.by_tp.items() if items}

    def next_offsets(self) -> dict[TopicPartition, OffsetAndMetadata]:
        return {
            tp: OffsetAndMetadata(items[-1].offset + 1, "", -1)
            for tp, items in self.by_tp.items() if items
        }


@dataclass
class BatchFolder:
    """What a polled batch changes, folded with ``folds`` over ``store`` (and ``cache``)."""

    store: ReadStore
    cache: DocCache
    folds: Sequence[Fold]
    group_id: str
    max_retries: int

    def outcome(self, batch: PolledBatch) -> Outcome:
        """What the batch changes, and which records it dead-letters (no writes)."""
        for items in batch.by_tp.values():
            for item in items:
                self._decode(item)
        keys = sorted({i.key for items in batch.by_tp.values() for i in items if i.key})
        # Parked aggregates are few: one query for all of them beats one read per key
        # of the batch (FerretDB reads by id one document per round trip).
        wanted = set(keys)
        parked_now = {
            doc["_id"]: doc
            for doc in store_call(lambda: list(self.store.iter_find(PARKED, {"status": "parked"})))
            if doc["_id"] in wanted and is_parked(doc)
        }
        behind = {key: doc.get("origin", {}).get("offset") for key, doc in parked_now.items()}
        newly_parked: dict[str, Document] = {}
        dead: list[Item] = []

        def park(item: Item, reason: str) -> None:
            item.dead_reason = reason
            dead.append(item)
            if item.key is not None and item.key not in behind:
                behind[item.key] = item.offset
                newly_parked[item.key] = parked_doc(
                    item.key, group=self.group_id, reason=reason, at=now_iso(),
                    origin={"topic": item.tp.topic, "partition": item.tp.partition,
                            "offset": item.offset},
                    event_type=item.envelope.type if item.envelope else None,
                )

        # Per partition, in order: what cannot even be decoded parks its aggregate.
        candidates: dict[TopicPartition, list[Item]] = {}
        for tp, items in batch.by_tp.items():
            candidates[tp] = []
            for item in items:
                if item.key is not None and item.key in behind:
                    park(item, f"parked behind {behind[item.key]}")
                elif item.error is not None:
                    park(item, item.error)
                else:
                    candidates[tp].append(item)
        ordered = self._merged(candidates)
        snapshot = BatchReader(self.store, self.cache)
        changes, error = fold_batch(
            [i.envelope for i in ordered], self.folds, snapshot  # type: ignore[misc]
        )
        if error is not None:
            log.warning("projector %s: a fold failed (%s); applying the batch one record "
                        "at a time", self.group_id, error)
            changes = {}
            reader = overlay(changes, snapshot)
            for item in ordered:
                if item.key is not None and item.key in behind:
                    park(item, f"parked behind {behind[item.key]}")
                    continue
                single, failure = self._fold_one(item, reader)
                if failure is not None:
                    park(item, failure)
                else:
                    changes.update(single)
        for key, doc in newly_parked.items():
            changes[(PARKED, key)] = doc
            log.error("projector %s: parked aggregate %s: %s", self.group_id, key, doc["reason"])
        dead.sort(key=lambda i: (i.tp.topic, i.tp.partition, i.offset))
        position = max((i.envelope.position for i in ordered if i.envelope), default=0)
        return Outcome(changes, dead, position, read=snapshot.docs,
                       assumed=frozenset(snapshot.assumed),
                       owned=owned_keys(changes, snapshot, self.cache))

    def _decode(self, item: Item) -> None:
        """Decode and upcast, tried ``1 + max_retries`` times like any poison."""
        for attempt in range(1, self.max_retries + 2):
            item.attempts = attempt
            try:
                item.envelope = decode_record(item.record.value)
                item.error = None
                return
            except Exception as e:
                item.error = f"{type(e).__name__}: {e}"

    @staticmethod
    def _merged(candidates: Mapping[TopicPartition, list[Item]]) -> list[Item]:
        """All partitions merged by global position, each partition's order kept.

        Per-aggregate order is what correctness needs (a key lives in one partition);
        merging by position also replays the cross-aggregate order of the ledger as
        far as one batch can.
        """
        return list(heapq.merge(
            *candidates.values(), key=lambda i: i.envelope.position  # type: ignore[union-attr]
        ))

    def _fold_one(
        self, item: Item, reader: Callable[[str, str], Document | None]
    ) -> tuple[dict[DocKey, Document], str | None]:
        failure = None
        for attempt in range(1, self.max_retries + 2):
            item.attempts = attempt
            try:
                return fold_events([item.envelope], self.folds, reader,  # type: ignore[list-item]
                                   blind_writes=True), None
            except StoreUnavailableError:
                raise
            except Exception as e:
                failure = f"{type(e).__name__}: {e}"
        return {}, failure
