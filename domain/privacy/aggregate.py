"""One erasure of one data subject's personal data, as an aggregate.

Its id is derived from the subject (:func:`erasure_id`), so a subject is erased at most
once: a second request finds the aggregate and is refused (409), and two concurrent
requests collide on its version 1. The event names the subject by kind and id only (a
member id, or the key store's random id of a customer, never an email address): it
holds no personal data, so it stays readable, verifiable and published forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import LedgerAggregate, require_reason
from domain.meta import CommandMeta
from domain.personal import SubjectKind

ERASURE_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/erasures")


def erasure_id(subject_kind: SubjectKind, subject_id: str) -> UUID:
    """The id of the erasure of ``<subject_kind>:<subject_id>``."""
    return uuid5(ERASURE_NAMESPACE, f"{subject_kind}:{subject_id}")


class Erasure(LedgerAggregate):
    CONTEXT = "privacy"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        subject_kind: str
        subject_id: str
        team_id: str | None

    class PersonalDataErased(LedgerAggregate.Created):
        """A data subject's key was deleted: every personal field sealed under it reads
        ``"[erased]"`` from then on. ``team_id``: the member's team then (None for a
        customer), so the team's auditors see the erasure in its trail."""

        subject_kind: str
        subject_id: str
        team_id: str | None
        reason: str

        def apply(self, erasure: Erasure) -> None:
            erasure.subject_kind = self.subject_kind
            erasure.subject_id = self.subject_id
            erasure.team_id = self.team_id

    @classmethod
    def record(cls, subject_kind: SubjectKind, subject_id: str, team_id: str | None,
               reason: str, meta: CommandMeta) -> Erasure:
        return cls._start(
            cls.PersonalDataErased, erasure_id(subject_kind, subject_id), meta,
            subject_kind=subject_kind, subject_id=subject_id, team_id=team_id,
            reason=require_reason(reason, "erasing personal data"),
        )

    def owning_team(self) -> str | None:
        return self.team_id

    @property
    def subject(self) -> str:
        """``<kind>:<id>``, as the key store names the subject."""
        return f"{self.subject_kind}:{self.subject_id}"
