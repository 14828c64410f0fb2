"""Revealing sealed values, as specifications: a value opened once is answered again
without decrypting it, and never once its subject's key is gone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from domain.personal import ERASED
from infra.personal import reveal
from infra.personal.keys import KeyStore
from infra.personal.reveal import Revealer
from infra.personal.sealing import Sealed, UnreadableSealError, seal

ADA = "member:00000000-0000-4000-8000-000000000001"


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite")


@pytest.fixture
def decrypted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The subjects of the values actually decrypted, in order."""
    seen: list[str] = []
    real = reveal.unseal

    def counting(sealed: Sealed, key: bytes) -> str:
        seen.append(sealed.subject)
        return real(sealed, key)

    monkeypatch.setattr(reveal, "unseal", counting)
    return seen


def sealed_name(keys: KeyStore, plaintext: str = "Ada Lovelace") -> str:
    key = keys.key_for_new_data(ADA)
    assert key is not None
    return seal(ADA, key, plaintext)


def test_a_value_opened_once_is_answered_again_without_decrypting(
    keys: KeyStore, decrypted: list[str],
) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)

    assert [revealer.reveal(name) for _ in range(3)] == ["Ada Lovelace"] * 3

    assert decrypted == [ADA]


def test_a_remembered_value_is_erased_as_soon_as_its_key_is(keys: KeyStore) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)
    assert revealer.reveal(name) == "Ada Lovelace"

    keys.begin_erasure(ADA)

    assert revealer.reveal(name) == ERASED
    keys.abandon_erasure(ADA)
    keys.erase(ADA)
    assert revealer.reveal(name) == ERASED


def test_a_remembered_value_is_opened_again_after_its_time(
    keys: KeyStore, decrypted: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)
    revealer.reveal(name)

    monkeypatch.setattr(reveal, "OPENED_SECONDS", 0.0)

    assert revealer.reveal(name) == "Ada Lovelace"
    assert decrypted == [ADA, ADA]


def test_an_altered_value_is_refused_even_beside_a_remembered_one(keys: KeyStore) -> None:
    revealer = Revealer(keys)
    name = sealed_name(keys)
    revealer.reveal(name)

    with pytest.raises(UnreadableSealError):
        revealer.reveal(name[:-4] + ("AAAA" if not name.endswith("AAAA") else "BBBB"))
    with pytest.raises(UnreadableSealError):
        revealer.reveal("pii:v1:member:not-a-subject")


GRACE = "member:00000000-0000-4000-8000-000000000002"


def test_a_document_opens_in_its_json_exactly_as_walking_it_would(keys: KeyStore) -> None:
    ada = sealed_name(keys, 'Ada "the Countess" \\ Lovelace\nof Ockham ✓')
    grace_key = keys.key_for_new_data(GRACE)
    assert grace_key is not None
    grace = seal(GRACE, grace_key, "Grace Hopper")
    doc: dict[str, Any] = {"id": "f1", "score": 7, "ratio": 0.5, "flag": None, "ok": True,
           "customer": {"name": ada, "email": grace},
           "history": [{"by": ada, "text": f"{ada} joined as SRE, {grace} left"}, 3, [grace]]}
    revealer = Revealer(keys)

    opened = revealer.reveal_document("feedback", doc)

    assert opened == revealer.reveal_tree(doc)
    assert opened is not None
    assert opened["customer"] == {"name": 'Ada "the Countess" \\ Lovelace\nof Ockham ✓',
                                  "email": "Grace Hopper"}
    assert opened["history"][0]["text"] == (
        'Ada "the Countess" \\ Lovelace\nof Ockham ✓ joined as SRE, Grace Hopper left')
    assert doc["customer"]["name"] == ada  # the stored document is left as it was

    keys.erase(GRACE)
    erased = revealer.reveal_document("feedback", doc)
    assert erased is not None
    assert erased["customer"]["email"] == ERASED
    assert erased["history"][2] == [ERASED]


def test_a_document_that_is_not_plain_json_is_walked_and_keeps_its_types(
        keys: KeyStore) -> None:
    import datetime

    at = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    doc: dict[Any, Any] = {"at": at, "name": sealed_name(keys), 1: "a key that is not text"}

    opened = Revealer(keys).reveal_document("members", doc)

    assert opened == {"at": at, "name": "Ada Lovelace", 1: "a key that is not text"}


def test_a_document_without_sealed_values_is_answered_as_it_is(keys: KeyStore) -> None:
    doc = {"id": "t1", "name": "Platform", "members": ["a", "b"]}

    assert Revealer(keys).reveal_document("teams", doc) is doc


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The documents actually walked to open their sealed values."""
    seen: list[object] = []
    real = Revealer._opened_document

    def counting(self: Revealer, collection: str, doc: dict[str, object]) -> object:
        seen.append(doc)
        return real(self, collection, doc)

    monkeypatch.setattr(Revealer, "_opened_document", counting)
    return seen


def test_a_document_opened_once_is_answered_again_without_walking_it(
        keys: KeyStore, walks: list[object]) -> None:
    doc = {"id": "f1", "customer": {"name": sealed_name(keys)}, "tags": ["a"]}
    revealer = Revealer(keys)

    first = revealer.reveal_document("feedback", doc)
    again = revealer.reveal_document("feedback", dict(doc))

    assert first == again == {"id": "f1", "customer": {"name": "Ada Lovelace"}, "tags": ["a"]}
    assert len(walks) == 1


def test_a_remembered_document_reads_erased_once_its_subject_is_erased(
        keys: KeyStore) -> None:
    doc = {"id": "f1", "customer": {"name": sealed_name(keys)}}
    revealer = Revealer(keys)
    revealer.reveal_document("feedback", doc)

    keys.erase(ADA)

    assert revealer.reveal_document("feedback", doc) == {"id": "f1",
                                                         "customer": {"name": ERASED}}


def test_a_remembered_document_is_answered_as_new_objects_each_time(keys: KeyStore) -> None:
    doc = {"id": "i1", "items": [{"text": sealed_name(keys), "overdue": False}]}
    revealer = Revealer(keys)
    revealer.reveal_document("incidents", doc)

    answer = revealer.reveal_document("incidents", doc)
    assert answer is not None
    answer["items"][0]["overdue"] = True  # a route deriving a field on what it was given

    assert revealer.reveal_document("incidents", doc) == {
        "id": "i1", "items": [{"text": "Ada Lovelace", "overdue": False}]}


def test_a_document_whose_types_json_would_change_is_walked_every_time(
        keys: KeyStore, walks: list[object]) -> None:
    import uuid

    doc = {"id": uuid.UUID(int=1), "name": sealed_name(keys)}
    revealer = Revealer(keys)

    answers = [revealer.reveal_document("members", doc) for _ in range(2)]

    assert answers == [{"id": uuid.UUID(int=1), "name": "Ada Lovelace"}] * 2
    assert len(walks) == 2
