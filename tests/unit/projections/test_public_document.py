"""What the API shows of a read-model document: everything but the engine's
bookkeeping (every top-level key that starts with an underscore), in the same order,
the stored document left as it was."""

from __future__ import annotations

from projections.fold import public


def test_a_document_is_shown_without_its_bookkeeping_in_its_own_order() -> None:
    stored = {"_id": "f1", "id": "f1", "_streams": {"f1": 3}, "score": 7,
              "customer": {"_private": "kept: nested keys are the document's own"},
              "_by_type": {}, "text": "ok"}

    shown = public(stored)

    assert shown == {"id": "f1", "score": 7,
                     "customer": {"_private": "kept: nested keys are the document's own"},
                     "text": "ok"}
    assert list(shown or {}) == ["id", "score", "customer", "text"]
    assert "_streams" in stored and "_id" in stored  # the stored document is untouched


def test_no_document_shows_as_none() -> None:
    assert public(None) is None
