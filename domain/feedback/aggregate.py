"""One piece of feedback: received (customer) or given (peer, manager), triaged, resolved."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypedDict, get_args
from uuid import UUID

from domain.aggregate import LedgerAggregate, require
from domain.errors import ValidationError
from domain.meta import CommandMeta
from domain.personal import CUSTOMER, FEEDBACK_SUBJECT, Personal

Kind = Literal["customer", "peer", "manager"]
"""Who the feedback comes from: received from a customer, or given by a peer or manager."""
KINDS: tuple[str, ...] = get_args(Kind)
Priority = Literal["low", "medium", "high", "urgent"]
PRIORITIES: tuple[str, ...] = get_args(Priority)
DEFAULT_CHANNEL = "unspecified"
NEW, TRIAGED, RESOLVED = "new", "triaged", "resolved"
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
"""Enough of an email address to tell one from a typo; the customer gave it to us."""


class Customer(TypedDict):
    """Who gave customer feedback, when they said: their personal data."""

    name: str
    email: str


def customer_of(customer: Customer | None) -> Customer | None:
    """A customer with a name and an email address (trimmed), or None."""
    if customer is None:
        return None
    name, email = customer["name"].strip(), customer["email"].strip()
    require(bool(name), "a customer needs a name")
    if not EMAIL.match(email):
        raise ValidationError(f"customer email {email!r} is not an email address")
    return {"name": name, "email": email}


def score_of(score: int | None) -> int | None:
    """An integer 0..10, or None when no score was given."""
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValidationError(f"score must be a whole number from 0 to 10, got {score!r}")
    return score


class Feedback(LedgerAggregate):
    CONTEXT = "feedback"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        kind: str
        channel: str | None
        score: int | None
        text: str
        subject_member_id: str | None
        customer: Customer | None
        status: str
        priority: str | None
        owner_id: str | None
        triage_history: list[dict[str, Any]]
        resolution: str | None

    class CustomerFeedbackReceived(LedgerAggregate.Created):
        # The customer's words are theirs too: erased with their identity.
        PERSONAL: ClassVar[Personal] = {
            "text": CUSTOMER, "customer.name": CUSTOMER, "customer.email": CUSTOMER}
        team_id: str
        channel: str
        score: int | None
        text: str
        subject_member_id: str | None
        # Optional, so events stored before it existed read as ``None``.
        customer: Customer | None = None

        def apply(self, feedback: Feedback) -> None:
            feedback._received("customer", self.team_id, self.text, self.score,
                               self.subject_member_id, self.channel)
            feedback.customer = self.customer

    class PeerFeedbackGiven(LedgerAggregate.Created):
        PERSONAL: ClassVar[Personal] = {"text": FEEDBACK_SUBJECT}
        team_id: str
        kind: str
        subject_member_id: str
        score: int | None
        text: str

        def apply(self, feedback: Feedback) -> None:
            feedback._received(self.kind, self.team_id, self.text, self.score,
                               self.subject_member_id, None)

    class FeedbackTriaged(LedgerAggregate.Event):
        priority: str
        owner_id: str

        def apply(self, feedback: Feedback) -> None:
            feedback.status = TRIAGED
            feedback.priority = self.priority
            feedback.owner_id = self.owner_id
            feedback.triage_history.append(
                {"priority": self.priority, "owner_id": self.owner_id, "at": self.occurred_at}
            )

    class FeedbackResolved(LedgerAggregate.Event):
        resolution: str

        def apply(self, feedback: Feedback) -> None:
            feedback.status = RESOLVED
            feedback.resolution = self.resolution

    def _received(
        self, kind: str, team_id: str, text: str, score: int | None,
        subject_member_id: str | None, channel: str | None,
    ) -> None:
        self.kind = kind
        self.team_id = team_id
        self.text = text
        self.score = score
        self.subject_member_id = subject_member_id
        self.channel = channel
        self.customer = None
        self.status = NEW
        self.priority = None
        self.owner_id = None
        self.triage_history = []
        self.resolution = None

    def owning_team(self) -> str | None:
        return self.team_id

    # -- commands -------------------------------------------------------------

    @classmethod
    def give(
        cls, feedback_id: UUID, kind: str, team_id: UUID, text: str,
        subject_member_id: UUID | None, channel: str | None, score: int | None,
        meta: CommandMeta, customer: Customer | None = None,
    ) -> Feedback:
        kind = kind.strip().lower()
        if kind not in KINDS:
            raise ValidationError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        require(bool(text.strip()), "feedback needs text")
        score = score_of(score)
        subject = None if subject_member_id is None else str(subject_member_id)
        if kind == "customer":
            return cls._start(
                cls.CustomerFeedbackReceived, feedback_id, meta, team_id=str(team_id),
                channel=(channel or "").strip() or DEFAULT_CHANNEL, score=score,
                text=text.strip(), subject_member_id=subject, customer=customer_of(customer),
            )
        if customer is not None:
            raise ValidationError(f"customer applies to customer feedback only, not {kind}")
        require(subject is not None, f"{kind} feedback needs a subject_member_id")
        if channel is not None and channel.strip():
            raise ValidationError(f"channel applies to customer feedback only, not {kind}")
        return cls._start(
            cls.PeerFeedbackGiven, feedback_id, meta, team_id=str(team_id), kind=kind,
            subject_member_id=subject, score=score, text=text.strip(),
        )

    def triage(self, priority: str, owner_id: UUID, meta: CommandMeta) -> None:
        """Triage, or re-triage (re-prioritise, hand over) while not yet resolved."""
        self._require_unresolved("be triaged")
        priority = priority.strip().lower()
        if priority not in PRIORITIES:
            raise ValidationError(
                f"priority must be one of {', '.join(PRIORITIES)}, got {priority!r}"
            )
        owner = str(owner_id).strip()
        require(bool(owner), "triage needs an owner")
        require((priority, owner) != (self.priority, self.owner_id),
                f"feedback {self.id} is already triaged as {priority} for {owner}")
        self._record(self.FeedbackTriaged, meta, priority=priority, owner_id=owner)

    def resolve(self, resolution: str, meta: CommandMeta) -> None:
        self._require_unresolved("be resolved again")
        require(self.status == TRIAGED, f"feedback {self.id} must be triaged before it is resolved")
        require(bool(resolution.strip()), "a resolution needs a description")
        self._record(self.FeedbackResolved, meta, resolution=resolution.strip())

    def _require_unresolved(self, action: str) -> None:
        require(self.status != RESOLVED, f"feedback {self.id} is resolved and can't {action}")
