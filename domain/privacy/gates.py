"""The write side of legal holds: one private record (a *gate*) per thing a hold can
name (``team:<id>``, ``member:<id>``, ``customer:<id>``), holding the active holds on it.

An erasure loads the gates of its subject and of every team the subject is or was of,
refuses if any holds, and saves each gate again with a ``Passed`` event in the same
``save`` as its ``PersonalDataErased``. Placing a hold saves its gate in the same way.
So a hold placed while an erasure of what it covers runs collides with it on the
gate's version: one of the two is refused (409), never both saved. Gates are private
records (plain eventsourcing aggregates without a ``CONTEXT``): the relay, the feed,
the chain and the folds pass over them, like the member directory's records.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.ledger import Ledger

GATE_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/legal-hold-gates")


def gate_id(key: str) -> UUID:
    return uuid5(GATE_NAMESPACE, key)


class HoldGate(Aggregate):
    """The active holds on one team, member or customer. Not public."""

    class Opened(Aggregate.Created):
        key: str

        def apply(self, gate: Any) -> None:
            gate.key = self.key
            gate.holds = {}

    class Held(Aggregate.Event):
        hold_id: str
        reason: str

        def apply(self, gate: Any) -> None:
            gate.holds[self.hold_id] = self.reason

    class Released(Aggregate.Event):
        hold_id: str

        def apply(self, gate: Any) -> None:
            gate.holds.pop(self.hold_id, None)

    class Passed(Aggregate.Event):
        """An erasure went through this gate (a new version, so a concurrent hold
        collides with it)."""

        def apply(self, gate: Any) -> None:
            pass

    if TYPE_CHECKING:
        key: str
        holds: dict[str, str]

    @classmethod
    def open(cls, key: str) -> HoldGate:
        return cls._create(cls.Opened, id=gate_id(key), key=key)

    def hold(self, hold_id: UUID, reason: str) -> None:
        self.trigger_event(self.Held, hold_id=str(hold_id), reason=reason)

    def release(self, hold_id: UUID) -> None:
        self.trigger_event(self.Released, hold_id=str(hold_id))

    def pass_through(self) -> None:
        self.trigger_event(self.Passed)


@dataclass(frozen=True)
class ActiveHold:
    """A hold that suspends an erasure: which, on what, and why."""

    hold_id: str
    key: str
    reason: str


class UnderLegalHoldError(DomainError):
    """An erasure of personal data a legal hold covers (HTTP 409, ``hold_id``)."""

    def __init__(self, whose: str, hold: ActiveHold) -> None:
        super().__init__(
            f"{whose} personal data is under legal hold {hold.hold_id} ({hold.key}: "
            f"{hold.reason}); release the hold first",
            hold_id=hold.hold_id, hold_reason=hold.reason)
        self.hold = hold


def hold_keys(subject: str, teams: Iterable[str]) -> list[str]:
    """The gates an erasure of ``subject`` (``<kind>:<id>``) passes: its own, then one
    per team it is or was of."""
    return [subject, *(f"team:{team}" for team in sorted(set(teams)))]


class HoldGates:
    """Reads and opens gates on a ledger."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def gate(self, key: str) -> HoldGate:
        """The gate of ``key``, opened (unsaved) if it has none yet."""
        try:
            found: object = self.ledger.stored(gate_id(key))
        except AggregateNotFoundError:
            return HoldGate.open(key)
        if not isinstance(found, HoldGate):  # pragma: no cover - ids are uuid5 of a key
            raise DomainError(f"record {gate_id(key)} is not a legal-hold gate")
        return found

    def holds_on(self, keys: Iterable[str]) -> list[ActiveHold]:
        """The active holds on any of ``keys``, oldest gate key first."""
        return [ActiveHold(hold_id, gate.key, reason)
                for gate in (self.gate(k) for k in keys)
                for hold_id, reason in sorted(gate.holds.items())]

    def pass_through(self, whose: str, keys: Iterable[str]) -> list[HoldGate]:
        """The gates of ``keys``, each with a new version, to save with an erasure;
        :class:`UnderLegalHoldError` if a hold is on any."""
        gates = [self.gate(k) for k in keys]
        for gate in gates:
            for hold_id, reason in sorted(gate.holds.items()):
                raise UnderLegalHoldError(whose, ActiveHold(hold_id, gate.key, reason))
        for gate in gates:
            gate.pass_through()
        return gates
