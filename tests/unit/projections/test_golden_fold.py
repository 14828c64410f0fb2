"""The fold engine folds a realistic mixed history into exactly the documents the engine
before issue 15 did (:mod:`tests.unit.projections.golden`), whichever way it is called:
every batch's changes and every document of the final state, type for type. And it
never changes a document its reader handed it (a store may keep and serve that very
object again)."""

from __future__ import annotations

import pytest

from projections.fold import Document
from projections.registry import ALL_FOLDS
from tests.unit.projections.golden import (
    MODES,
    DictStore,
    batches,
    digest,
    fold_digests,
    load_golden,
    load_histories,
)

HISTORIES = load_histories()
GOLDEN = load_golden()


def _differences(found: dict[str, str], expected: dict[str, str]) -> list[str]:
    return sorted(k for k in found.keys() | expected.keys() if found.get(k) != expected.get(k))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("history", ["demo", "bench"])
def test_the_history_folds_into_the_golden_documents(history: str, mode: str) -> None:
    # given a history made by the real domain, when it is folded this way
    folded = fold_digests(HISTORIES[history], mode)
    golden = GOLDEN[history]
    # then every document of the final state is the golden one
    differing = _differences(folded["documents"], golden["documents"])
    assert not differing, f"{len(differing)} documents differ, e.g. {differing[:5]}"
    # and so is every batch's answer (what a store is asked to write)
    assert folded["batches"] == golden["batches"][mode]


def test_the_histories_cover_every_context_and_fold() -> None:
    events = [e for history in HISTORIES.values() for e in history]
    contexts = {e.context for e in events}
    assert {"teams", "goals", "incidents", "feedback", "risks", "people", "compliance",
            "access", "privacy", "imports"} <= contexts
    collections = {key.partition("/")[0] for h in GOLDEN.values() for key in h["documents"]}
    assert {fold.collection for fold in ALL_FOLDS} <= collections


class WatchedStore(DictStore):
    """A store that notes the digest of every document it hands out."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: dict[int, tuple[Document, str]] = {}

    def _hand(self, doc: Document | None) -> Document | None:
        if doc is not None and id(doc) not in self.handed:
            self.handed[id(doc)] = (doc, digest(doc))
        return doc

    def get(self, collection: str, doc_id: str) -> Document | None:
        return self._hand(super().get(collection, doc_id))

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        found = super().get_many(collection, doc_ids)
        for doc in found.values():
            self._hand(doc)
        return found

    def changed_since_handed(self) -> list[str]:
        return [str(doc.get("_id")) for doc, before in self.handed.values()
                if digest(doc) != before]


@pytest.mark.parametrize("mode", [m for m, (_, size) in MODES.items() if size is not None])
def test_the_engine_never_changes_a_document_its_reader_handed_it(mode: str) -> None:
    folding, size = MODES[mode]
    store = WatchedStore()
    for batch in batches(HISTORIES["demo"], size):
        store.handed.clear()
        changes = folding(batch, store)
        # the stored documents read are as they were, even those the batch replaces
        assert store.changed_since_handed() == []
        assert not {id(doc) for doc in changes.values()} & store.handed.keys()
        store.docs.update(changes)
