"""Guarantee 4, as a property: any interleaving of the aggregates' streams that keeps
each aggregate's order, with redeliveries of what was already delivered and any batch
boundaries, folds into the same documents as the ordered log folded once.

Pure: the events come from the real domain (command services over an in-memory
ledger) and the "store" is a dict, so this runs without servers, batch by batch,
through ``fold_events`` exactly as a projector does, and through the Kafka
projector's prefetching reader (``infra.kafka.projector.batch.fold_batch``).

No order across aggregates is assumed (Kafka gives none across partitions and
topics): a fold that read another aggregate's read model into a document (as the
responder's name once was) breaks the property, and
``test_a_responder_assigned_before_the_member_joined_folds_the_same`` pins that case.
"""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.projector_bench import History, realistic_history
from domain.envelope import EventEnvelope
from infra.kafka.projector.batch import BatchReader, fold_batch, owned_keys
from infra.kafka.projector.doc_cache import DocCache
from infra.kafka.projector.poison import PARKED
from projections.engine import DocKey, fold_events
from projections.fold import Document
from projections.registry import ALL_FOLDS, APPEND_ONLY, SHARED

HISTORY: History = realistic_history(140, seed=5, teams=2, members=3, concurrent=6)


def oracle(events: Sequence[EventEnvelope]) -> dict[DocKey, Document]:
    return fold_events(events, ALL_FOLDS, read=lambda collection, doc_id: None)


ORACLE = oracle(HISTORY.all)


def streams_of(events: Sequence[EventEnvelope]) -> list[list[EventEnvelope]]:
    by_subject: dict[str, list[EventEnvelope]] = defaultdict(list)
    for e in events:
        by_subject[e.subject].append(e)
    return list(by_subject.values())


class DictStore:
    """Just enough of the read-store port for the projector's reader."""

    def __init__(self) -> None:
        self.docs: dict[DocKey, Document] = {}

    def get(self, collection: str, doc_id: str) -> Document | None:
        doc = self.docs.get((collection, doc_id))
        return copy.deepcopy(doc) if doc is not None else None

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        return {i: d for i in doc_ids if (d := self.get(collection, i)) is not None}

    def commit_like_mongo(
        self, changes: Mapping[DocKey, Document], owned: frozenset[DocKey]
    ) -> frozenset[DocKey]:
        """The MongoDB store's write rules: write-once documents keep their first copy,
        owned ones are replaced by id, the rest are inserted or replaced under the
        stream guard; returns the documents that met a stored copy (not vouched for)."""
        uncertain = set()
        for key, doc in changes.items():
            stored = self.docs.get(key)
            if key[0] in APPEND_ONLY and stored is not None:
                continue
            if key in owned or stored is None:
                self.docs[key] = copy.deepcopy(doc)
                continue
            uncertain.add(key)
            ahead = any(stored.get("_streams", {}).get(stream, 0) > version
                        for stream, version in doc.get("_streams", {}).items())
            if not ahead:
                self.docs[key] = copy.deepcopy(doc)
        return frozenset(uncertain)

    def apply(self, changes: Mapping[DocKey, Document]) -> None:
        # As the MongoDB store does: a write-once document already stored stays as
        # it is (the projector writes them blind, so redeliveries send them again).
        for key, doc in changes.items():
            if key[0] in APPEND_ONLY and key in self.docs:
                continue
            self.docs[key] = copy.deepcopy(doc)


@st.composite
def deliveries(draw: st.DrawFn, streams: list[list[EventEnvelope]]) -> list[EventEnvelope]:
    """One interleaving of ``streams`` (each stream's order kept), with redeliveries:
    now and then an aggregate's already delivered events come again from some point."""
    pending = [list(s) for s in streams]
    delivered: list[list[EventEnvelope]] = [[] for _ in streams]
    out: list[EventEnvelope] = []
    while any(pending):
        choices = [i for i, p in enumerate(pending) if p]
        i = choices[draw(st.integers(0, len(choices) - 1))]
        event = pending[i].pop(0)
        out.append(event)
        delivered[i].append(event)
        if draw(st.integers(0, 19)) == 0:  # ~5%: redeliver a suffix of what was seen
            start = draw(st.integers(0, len(delivered[i]) - 1))
            out.extend(delivered[i][start:])
    return out


@st.composite
def batched(draw: st.DrawFn, events: list[EventEnvelope]) -> list[list[EventEnvelope]]:
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, len(events) - 1)), max_size=25))))
    bounds = [0, *cuts, len(events)]
    return [events[a:b] for a, b in itertools.pairwise(bounds) if b > a]


@st.composite
def redelivered_logs(draw: st.DrawFn) -> list[list[EventEnvelope]]:
    return draw(batched(draw(deliveries(streams_of(HISTORY.all)))))


def _differences(expected: Mapping[DocKey, Document], actual: Mapping[DocKey, Any]) -> list:
    keys = sorted(set(expected) | set(actual))
    return [k for k in keys if expected.get(k) != actual.get(k)][:5]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=redelivered_logs())
def test_any_interleaving_with_redeliveries_and_batches_folds_like_the_ordered_log(
    batches: list[list[EventEnvelope]],
) -> None:
    plain = DictStore()
    prefetching = DictStore()
    for batch in batches:
        plain.apply(fold_events(batch, ALL_FOLDS, plain.get))
        changes, error = fold_batch(batch, ALL_FOLDS, BatchReader(prefetching))  # type: ignore[arg-type]
        assert error is None
        prefetching.apply(changes)
    assert plain.docs == ORACLE, _differences(ORACLE, plain.docs)
    assert prefetching.docs == ORACLE, _differences(ORACLE, prefetching.docs)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches=redelivered_logs(), cache_docs=st.sampled_from([0, 3, 50, 10_000]))
def test_the_projectors_cache_and_write_rules_fold_like_the_ordered_log(
    batches: list[list[EventEnvelope]], cache_docs: int,
) -> None:
    """As the Kafka projector runs: one cache across batches (evicting when small),
    documents made by their creating event not read, owned ones replaced by id."""
    store = DictStore()
    cache = DocCache(cache_docs, never=SHARED | {PARKED})
    seen: dict[DocKey, dict[str, int]] = defaultdict(dict)
    for batch in batches:
        reader = BatchReader(store, cache)  # type: ignore[arg-type]
        changes, error = fold_batch(batch, ALL_FOLDS, reader)
        assert error is None
        uncertain = store.commit_like_mongo(changes, owned_keys(changes, reader, cache))
        cache.learn(reader.docs, reader.assumed, changes, uncertain)
        # Never a step back, even for a while: readers see every intermediate state.
        for key in changes:
            streams = store.docs[key].get("_streams", {})
            behind = {s: v for s, v in seen[key].items() if streams.get(s, 0) < v}
            assert not behind, (key, behind)
            seen[key] = {**seen[key], **streams}
    assert store.docs == ORACLE, _differences(ORACLE, store.docs)


def test_the_history_covers_every_context_and_interleaves_aggregates() -> None:
    assert {e.context for e in HISTORY.all} == {"teams", "goals", "incidents", "feedback"}
    assert len(streams_of(HISTORY.activity)) >= 10
    subjects = [e.subject for e in HISTORY.activity]
    switches = sum(a != b for a, b in itertools.pairwise(subjects))
    assert switches > len(subjects) // 3  # not one aggregate after another


def test_the_ordered_log_in_one_batch_or_event_by_event_agree() -> None:
    store = DictStore()
    for event in HISTORY.all:
        store.apply(fold_events([event], ALL_FOLDS, store.get))
    assert store.docs == ORACLE


def test_a_responder_assigned_before_the_member_joined_folds_the_same() -> None:
    """Across aggregates (and so across topics) there is no delivery order: a fold
    must not read another aggregate's read model into a document."""
    assigned = next(e for e in HISTORY.activity if e.name == "ResponderAssigned")
    member = assigned.data["responder_id"]
    team = next(e.subject for e in HISTORY.roster
                if e.name == "MemberJoined" and e.data["member_id"] == member)
    team_events = [e for e in HISTORY.all if e.subject == team]
    incident = [e for e in HISTORY.all if e.subject == assigned.subject]
    incident_first = incident + team_events
    assert oracle(incident_first) == oracle(team_events + incident)
