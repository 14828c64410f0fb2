"""The base every OpsLedger aggregate and event derives from.

Events are explicit nested classes with an ``apply`` method (state as a fold);
command methods check rules with small ``_require`` calls, then record an event
stamped with the command's metadata and clock.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.errors import DomainError
from domain.meta import CommandMeta

EVENT_CLASSES: dict[str, type] = {}
"""``<context>.<EventName>`` to event class, for schemas and decoding."""


class LedgerAggregate(Aggregate):
    """An aggregate of one bounded context; ``CONTEXT`` names its Kafka topic."""

    CONTEXT: ClassVar[str] = ""

    class Event(Aggregate.Event):
        meta: dict[str, Any]

    class Created(Event, Aggregate.Created):
        pass

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Events learn their context here, so the wire name never depends on
        # where a Python class lives.
        for name, member in list(vars(cls).items()):
            if (
                name not in {"Event", "Created"}
                and isinstance(member, type)
                and issubclass(member, LedgerAggregate.Event)
            ):
                member.CONTEXT = cls.CONTEXT  # type: ignore[attr-defined]
                EVENT_CLASSES.setdefault(f"{cls.CONTEXT}.{member.__name__}", member)

    def owning_team(self) -> str | None:
        """The team whose members may change this aggregate, for a team-scoped command
        (:meth:`domain.ledger.Ledger.load`); None when no one team owns it (a token,
        whose service decides)."""
        return None

    @classmethod
    def _start(
        cls, event_class: type[LedgerAggregate.Created], aggregate_id: UUID,
        meta: CommandMeta, **data: Any,
    ) -> Self:
        return cls._create(
            event_class, id=aggregate_id, timestamp=meta.now,
            meta=meta.as_event_meta(), **data,
        )

    def _record(
        self, event_class: type[LedgerAggregate.Event], meta: CommandMeta, **data: Any
    ) -> None:
        self.trigger_event(
            event_class, timestamp=meta.now, meta=meta.as_event_meta(), **data
        )


def require(condition: bool, message: str) -> None:
    """Raise a :class:`DomainError` unless ``condition`` holds (never ``assert``)."""
    if not condition:
        raise DomainError(message)


def require_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    require(bool(reason), f"{what} needs a reason")
    return reason
