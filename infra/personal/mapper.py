"""The event store's mapper, sealing personal data as events are stored.

``to_stored_event`` seals every field the event class declares personal
(:func:`domain.personal.personal_fields`) under its subject's key, so the event store,
the hash chain over it, the relay and Kafka only ever hold ciphertext. Two ways back:

- ``to_domain_event`` opens the sealed fields again (``"[erased]"`` once the key is gone):
  what aggregates are loaded from, so the domain's rules see what people wrote.
- ``to_sealed_event`` leaves them sealed: what the hash chain, the notification log
  (the follower, the relay, the events feed) and verification read, since they must
  see exactly what is stored.

Without a key store (``keys`` is None: the in-memory ledger of unit tests) it is
eventsourcing's mapper. Events stored before sealing existed hold plaintext; they load,
fold and verify as they are.
"""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from domain.personal import ERASED, Personal, Subject, personal_fields, put_at, value_at
from infra.personal.keys import KeyStore
from infra.personal.reveal import Revealer
from infra.personal.sealing import is_sealed, seal


class PersonalDataMapper(Mapper[UUID]):
    keys: KeyStore | None = None

    def attach(self, keys: KeyStore) -> None:
        self.keys = keys
        self.revealer = Revealer(keys)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        personal = personal_fields(type(domain_event))
        if self.keys is None or not personal:
            return super().to_stored_event(domain_event)
        state = vars(domain_event)
        sealed = {**state}
        for head in {path.split(".")[0] for path in personal}:
            sealed[head] = copy.deepcopy(state[head])
        self._seal(self.keys, sealed, personal, state)
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", sealed)
        return super().to_stored_event(clone)

    @staticmethod
    def _seal(keys: KeyStore, target: dict[str, Any], personal: Personal,
              plain: dict[str, Any]) -> None:
        # Whose first, from the plaintext: the customer's email is itself sealed below.
        subjects = {s: _subject_of(keys, s, plain) for s in set(personal.values())}
        for path, subject in personal.items():
            value = value_at(plain, path)
            name = subjects[subject]
            if name is None or not isinstance(value, str) or is_sealed(value):
                continue  # no one's data here (no customer named), or sealed already
            key = keys.key_for_new_data(name)
            put_at(target, path, ERASED if key is None else seal(name, key, value))

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        event = super().to_domain_event(stored_event)
        if self.keys is None:
            return event
        personal = personal_fields(type(event))
        if personal:
            state = vars(event)
            for path in personal:
                value = value_at(state, path)
                if is_sealed(value):
                    put_at(state, path, self.revealer.reveal(value))
        return event

    def to_sealed_event(self, stored_event: StoredEvent) -> Any:
        """The event exactly as stored: personal fields still sealed."""
        return super().to_domain_event(stored_event)

    def to_stored_as_is(self, domain_event: Any) -> StoredEvent:
        """Store an event read back as stored (a restore): sealed values stay the
        same ciphertext, and plaintext of an event stored before sealing stays
        plaintext, so the restored bytes and chain are the lost store's."""
        return super().to_stored_event(domain_event)


def sealed_reader(mapper: Mapper[Any]) -> Any:
    """``mapper``'s way to read events as stored (sealed values left sealed)."""
    return getattr(mapper, "to_sealed_event", mapper.to_domain_event)


def as_is_writer(mapper: Mapper[Any]) -> Any:
    """``mapper``'s way to store events exactly as they were read (sealing nothing)."""
    return getattr(mapper, "to_stored_as_is", mapper.to_stored_event)


def _subject_of(keys: KeyStore, subject: Subject, plain: dict[str, Any]) -> str | None:
    """``<kind>:<id>`` of the subject the event names; None: it names none."""
    ref = value_at(plain, subject.field)
    if isinstance(ref, UUID):  # a record's own id (``originator_id``)
        ref = str(ref)
    if not isinstance(ref, str) or not ref.strip() or ref == ERASED:
        return None
    if subject.kind == "customer":
        return keys.customer_subject(ref)
    return f"{subject.kind}:{ref}"

