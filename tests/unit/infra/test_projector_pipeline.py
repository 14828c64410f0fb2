"""The projector's pipeline, as specifications: while one batch is being written, the
next folds over what that write will leave (:mod:`infra.kafka.projector.pipeline`).
Pure: the store is the property tests' dict, the write in flight a stand-in."""

from __future__ import annotations

from typing import Any

from infra.kafka.projector.batch import BatchReader, fold_batch, owned_keys
from infra.kafka.projector.doc_cache import DocCache
from infra.kafka.projector.poison import PARKED
from projections.engine import DocKey
from projections.fold import Document
from projections.registry import ALL_FOLDS, SHARED
from tests.unit.infra.test_projector_cache import KEY, incident
from tests.unit.projections.builders import ADA, INCIDENT
from tests.unit.projections.test_interleaving import DictStore


class WriteInFlight:
    """What the reader sees of a batch being written: its changes, and a wait."""

    def __init__(self, changes: dict[DocKey, Document], store: DictStore) -> None:
        self.changes = changes
        self.store = store
        self.waited = 0

    def wait(self) -> None:  # the write finishes: the store now holds its changes
        self.waited += 1
        self.store.apply(self.changes)


def new_cache() -> DocCache:
    return DocCache(100, never=SHARED | {PARKED})


def fold(store: DictStore, cache: DocCache, ahead: Any, *events: Any
         ) -> tuple[dict[DocKey, Document], BatchReader]:
    reader = BatchReader(store, cache, ahead)  # type: ignore[arg-type]
    changes, error = fold_batch(list(events), ALL_FOLDS, reader)
    assert error is None
    return changes, reader


def test_the_next_batch_folds_onto_the_write_in_flight_without_waiting_for_it() -> None:
    # Given a batch opening an incident, folded and not written yet
    store, cache = DictStore(), new_cache()
    first, _ = fold(store, cache, None, incident(1), incident(2))
    ahead = WriteInFlight(first, DictStore())  # its write lands elsewhere: unseen here

    # When the next batch folds while it is written
    changes, reader = fold(store, cache, ahead, incident(3))

    # Then it builds on that batch's incident, noted as speculated, without a wait
    notes = [m["text"] for m in changes[KEY]["timeline"] if "text" in m]
    assert notes == ["note 2", "note 3"]
    assert changes[KEY]["_streams"] == {INCIDENT: 3}
    assert KEY in reader.speculated
    assert ahead.waited == 0
    assert KEY in owned_keys(changes, reader, cache)  # stored by that write, so by id


def test_a_shared_document_being_written_is_read_from_the_store_once_written() -> None:
    # Given a write in flight that changes a member (fed by several streams)
    store = DictStore()
    member = ("members", ADA)
    ahead = WriteInFlight({member: {"id": ADA, "name": "Ada", "_streams": {"t": 2}}}, store)

    # When the next batch reads that member
    reader = BatchReader(store, new_cache(), ahead)  # type: ignore[arg-type]
    found = reader.read(*member)

    # Then it waited for the write and read the stored copy, speculating nothing
    assert ahead.waited == 1
    assert found == {"id": ADA, "name": "Ada", "_streams": {"t": 2}}
    assert not reader.speculated


def test_a_document_read_as_absent_is_inserted_rather_than_replaced_by_id() -> None:
    # Given a batch whose document was looked up and found absent, and one found stored
    store, cache = DictStore(), new_cache()
    reader = BatchReader(store, cache)  # type: ignore[arg-type]
    absent, stored = ("action_items", "item-1"), ("action_items", "item-2")
    store.docs[stored] = {"id": "item-2", "_streams": {INCIDENT: 1}}
    reader.fetch([absent, stored])
    changes = {key: {"id": key[1], "_streams": {INCIDENT: 2}} for key in (absent, stored)}

    # Then only the stored one may be replaced by id; the absent one is inserted
    assert owned_keys(changes, reader, cache) == {stored}
