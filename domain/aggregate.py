"""The base every OpsLedger aggregate and event derives from.

Events are explicit nested classes with an ``apply`` method (state as a fold);
command methods check rules with small ``_require`` calls, then record an event
stamped with the command's metadata and clock.

Business time: every event knows when it happened (:attr:`LedgerAggregate.Event.
occurred_at`), and every aggregate when its first and latest events happened. A
change is recorded in the order things happened: one said to have happened before
the aggregate's latest event is refused (:class:`OutOfOrderError`, naming that
event and its time), so no duration between two of its events can be negative.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Self
from uuid import UUID

from eventsourcing.domain import Aggregate, TAggregate

from domain.envelope import iso_time
from domain.errors import DomainError, OutOfOrderError
from domain.meta import CommandMeta

EVENT_CLASSES: dict[str, type] = {}
"""``<context>.<EventName>`` to event class, for schemas and decoding."""

def _words(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name).lower()


class LedgerAggregate(Aggregate):
    """An aggregate of one bounded context; ``CONTEXT`` names its Kafka topic."""

    CONTEXT: ClassVar[str] = ""

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        first_occurred_at: datetime
        last_occurred_at: datetime
        last_event: str

    class Event(Aggregate.Event):
        meta: dict[str, Any]

        @property
        def occurred_at(self) -> datetime:
            """When it happened: ``meta["occurred_at"]``, else the recording time (an
            event stored before business time existed, or one that named no other)."""
            text = (self.meta or {}).get("occurred_at")
            return datetime.fromisoformat(text) if text else self.timestamp

        def mutate(self, aggregate: TAggregate | None) -> TAggregate | None:
            mutated = super().mutate(aggregate)
            if isinstance(mutated, LedgerAggregate):
                at = self.occurred_at
                if mutated.version == 1:
                    mutated.first_occurred_at = at
                # The latest by business time; events stored before the order was
                # checked may go back a little with the server clock.
                previous = getattr(mutated, "last_occurred_at", None)
                if previous is None or at >= previous:
                    mutated.last_occurred_at = at
                    mutated.last_event = type(self).__name__
            return mutated

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

    def describe(self) -> str:
        """How messages name this aggregate, e.g. ``access token <id>``."""
        return f"{_words(type(self).__name__)} {self.id}"

    def require_existed(self, meta: CommandMeta, what: str) -> None:
        """Refuse ``what`` (e.g. "an incident of it") said to have happened before this
        aggregate's first event (:class:`OutOfOrderError`)."""
        if meta.business_time < self.first_occurred_at:
            raise OutOfOrderError(
                f"{what} can't have happened at {iso_time(meta.business_time)}: "
                f"{self.describe()} only exists since {iso_time(self.first_occurred_at)}",
                occurred_at=iso_time(meta.business_time),
                exists_since=iso_time(self.first_occurred_at),
            )

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
        self._require_after_latest(meta)
        self.trigger_event(
            event_class, timestamp=meta.now, meta=meta.as_event_meta(), **data
        )

    def _require_after_latest(self, meta: CommandMeta) -> None:
        at, latest = meta.business_time, self.last_occurred_at
        if at < latest:
            raise OutOfOrderError(
                f"this change to {self.describe()} happened at {iso_time(at)}, before its "
                f"latest event ({self.last_event} at {iso_time(latest)}); changes are "
                "recorded in the order they happened",
                occurred_at=iso_time(at), latest_event=self.last_event,
                latest_event_at=iso_time(latest),
            )


def require(condition: bool, message: str) -> None:
    """Raise a :class:`DomainError` unless ``condition`` holds (never ``assert``)."""
    if not condition:
        raise DomainError(message)


def require_not_before(
    moment: datetime, earlier: datetime | None, action: str, what_came_first: str,
) -> None:
    """Refuse ``action`` at ``moment`` before ``earlier`` (:class:`OutOfOrderError`),
    e.g. an acknowledgement before the incident was opened: "can't ``action`` at
    <moment>, before ``what_came_first`` at <earlier>"."""
    if earlier is not None and moment < earlier:
        raise OutOfOrderError(
            f"can't {action} at {iso_time(moment)}, before {what_came_first} at "
            f"{iso_time(earlier)}",
            occurred_at=iso_time(moment), must_not_precede=iso_time(earlier),
        )


def require_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    require(bool(reason), f"{what} needs a reason")
    return reason
