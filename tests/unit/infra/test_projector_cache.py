"""The projector's cache and write rules, as specifications: given what a store holds
and what the projector's cache knows, when a batch (maybe a redelivery) is folded and
written as the MongoDB store writes it, then no document steps back and the cache
only keeps what the store holds. Pure: the store is the property test's dict."""

from __future__ import annotations

from domain.envelope import EventEnvelope
from infra.kafka.projector.batch import BatchReader, fold_batch, owned_keys
from infra.kafka.projector.doc_cache import DocCache, unread_collections
from infra.kafka.projector.poison import PARKED
from projections.registry import ALL_FOLDS, SHARED
from tests.unit.projections.builders import INCIDENT, TEAM, ev
from tests.unit.projections.test_interleaving import DictStore

KEY = ("incidents", INCIDENT)


def incident(version: int) -> EventEnvelope:
    if version == 1:
        return ev("incidents", "IncidentOpened", INCIDENT, 1, 10, "2026-11-23T10:00:00Z",
                  team_id=TEAM, severity="SEV2", service="checkout", summary="Slow checkout")
    return ev("incidents", "TimelineNoteAdded", INCIDENT, version, 10 + version,
              f"2026-11-23T10:{version:02d}:00Z", text=f"note {version}")


def project(store: DictStore, cache: DocCache, *events: EventEnvelope) -> BatchReader:
    reader = BatchReader(store, cache)  # type: ignore[arg-type]
    changes, error = fold_batch(list(events), ALL_FOLDS, reader)
    assert error is None
    uncertain = store.commit_like_mongo(changes, owned_keys(changes, reader, cache))
    cache.learn(reader.docs, reader.assumed, changes, uncertain)
    return reader


def new_cache() -> DocCache:
    return DocCache(100, never=SHARED | {PARKED})


def test_a_creating_event_is_folded_without_reading_its_document() -> None:
    store = DictStore()

    reader = project(store, new_cache(), incident(1), incident(2))

    assert KEY in reader.assumed
    assert store.docs[KEY]["_streams"] == {INCIDENT: 2}


def test_a_redelivered_creating_event_does_not_take_the_document_back() -> None:
    store = DictStore()
    project(store, new_cache(), incident(1), incident(2), incident(3))
    cache = new_cache()  # another member now, or the cache cleared by a rebalance

    reader = project(store, cache, incident(1))

    assert KEY in reader.assumed
    assert store.docs[KEY]["_streams"] == {INCIDENT: 3}
    assert cache.lookup(KEY) == (False, None)  # its v1 copy is not the stored one


def test_after_a_redelivery_the_next_event_folds_onto_the_stored_state() -> None:
    store = DictStore()
    project(store, new_cache(), incident(1), incident(2), incident(3))
    cache = new_cache()
    project(store, cache, incident(1))

    project(store, cache, incident(4))

    notes = [m["text"] for m in store.docs[KEY]["timeline"] if "text" in m]
    assert store.docs[KEY]["_streams"] == {INCIDENT: 4}
    assert notes == ["note 2", "note 3", "note 4"]


def test_a_cached_document_is_written_by_id_without_a_read() -> None:
    store = DictStore()
    cache = new_cache()
    project(store, cache, incident(1))
    reads: list[tuple[str, str]] = []
    original = store.get

    def counting_get(collection: str, doc_id: str):  # type: ignore[no-untyped-def]
        reads.append((collection, doc_id))
        return original(collection, doc_id)

    store.get = counting_get  # type: ignore[method-assign]
    reader = project(store, cache, incident(2))

    assert KEY not in reads
    assert KEY in owned_keys({KEY: store.docs[KEY]}, reader, cache)
    assert store.docs[KEY]["_streams"] == {INCIDENT: 2}


def test_a_document_read_as_absent_is_inserted_rather_than_replaced_by_id() -> None:
    """On FerretDB a replacement by id is a statement and a transaction of its own; a
    new document is one row of the bulk insert (and the guard decides should it exist)."""
    store = DictStore()
    cache = new_cache()
    project(store, cache, incident(1))
    reader = BatchReader(store, cache)  # type: ignore[arg-type]
    absent = ("incidents", "inc-never-stored")
    reader.fetch([KEY, absent])

    owned = owned_keys({KEY: store.docs[KEY], absent: {"id": "inc-never-stored"}},
                       reader, cache)

    assert reader.docs[absent] is None
    assert owned == {KEY}


def test_write_once_documents_no_fold_reads_back_are_not_cached() -> None:
    """Audit records and timeline entries are written blind and never evolved from;
    history records are (the next version evolves from the last)."""
    unread = unread_collections(ALL_FOLDS)
    cache = DocCache(100, never=SHARED | {PARKED} | unread)
    audit, history = ("audit_trail", "ev-1"), ("compliance_history", f"{INCIDENT}:0000000001")

    cache.learn({}, frozenset(), {audit: {"id": "ev-1"}, history: {"id": "h"}}, frozenset())

    assert {"audit_trail", "timeline"} <= unread and "compliance_history" not in unread
    assert cache.lookup(audit) == (False, None)
    assert cache.lookup(history) == (True, {"id": "h"})
