"""The one eventsourcing Application that every aggregate of every context is saved
through, so each event gets one gap-free global position (its notification id)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    Recording,
)
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from domain.aggregate import LedgerAggregate
from domain.errors import (
    ConcurrencyError,
    DomainError,
    IdempotencyKeyReusedError,
    NotFoundError,
    OutOfScopeError,
    StaleVersionError,
    ValidationError,
)
from domain.idempotency import IdempotencyRecord, idempotency_record_id
from domain.imports.aggregate import ImportRun
from domain.meta import ALL_TEAMS, CommandMeta

A = TypeVar("A", bound=LedgerAggregate)

Changed = LedgerAggregate | Sequence[Aggregate]
"""What a command hands back to be saved: the aggregate that answers, or a sequence
whose first item answers, followed by any other aggregates and private records
(e.g. write-side indexes) that must be saved in the same atomic ``save``."""


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """eventsourcing's ``project_aggregate`` without its check of every event against a
    runtime protocol (an ``isinstance`` that costs more than the event's ``mutate``):
    every stored event is of an eventsourcing event class, and mutates."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class _Collected(ProcessingEvent[UUID]):
    """eventsourcing's collection of what a save stores, with aggregates told apart
    from events by their class, not by two runtime-protocol checks each."""

    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif obj is not None:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)


class PositionLookup(Protocol):
    """What the ledger needs of its recorder to answer an idempotent retry."""

    def position_of(self, originator_id: UUID, originator_version: int) -> int | None: ...


@dataclass(frozen=True)
class CommandContext:
    """Everything about a command that is not its body."""

    meta: CommandMeta
    if_match: int | None = None
    idempotency_key: str | None = None
    fingerprint: str = ""
    teams: frozenset[str] = frozenset({ALL_TEAMS})
    """The teams the caller may act on (``"*"``: every team)."""

    @property
    def scoped(self) -> bool:
        """Whether the caller may act on some teams only."""
        return ALL_TEAMS not in self.teams


@dataclass(frozen=True)
class CommandResult:
    id: UUID
    version: int
    position: int
    created: bool


class Ledger(Application[UUID]):
    """Saves aggregates atomically; answers with the aggregate's version and position."""

    name = "OpsLedger"

    def __init__(self, env: dict[str, str] | None = None) -> None:
        super().__init__(env)
        self._listeners: list[Callable[[int], None]] = []
        self._listeners_lock = threading.Lock()

    # -- reading -------------------------------------------------------------

    def load(self, cls: type[A], aggregate_id: UUID, ctx: CommandContext | None = None) -> A:
        """The aggregate; with a command's context, also checked against the caller's
        teams (:class:`OutOfScopeError`), then against ``If-Match``."""
        aggregate = self._get(cls, aggregate_id)
        if ctx is not None:
            self._check_scope(aggregate, ctx)
            self._check_version(aggregate, ctx)
        return aggregate

    def first(self, cls: type[A], aggregate_id: UUID) -> A:
        """The aggregate as its first event left it (:class:`NotFoundError` if it has
        none, or is not a ``cls``): enough to know that it exists and since when
        (:meth:`~domain.aggregate.LedgerAggregate.require_existed`), for the price of
        one event instead of its whole history."""
        return self._get(cls, aggregate_id, version=1)

    def stored(self, aggregate_id: UUID, version: int | None = None) -> object:
        """Whatever aggregate is stored under ``aggregate_id`` (at ``version``), any
        class, private records too (:class:`AggregateNotFoundError` if none)."""
        return self.repository.get(aggregate_id, version=version, projector_func=project)

    def _get(self, cls: type[A], aggregate_id: UUID, version: int | None = None) -> A:
        try:
            aggregate = self.stored(aggregate_id, version)
        except AggregateNotFoundError:
            raise NotFoundError(f"{cls.__name__.lower()} {aggregate_id} not found") from None
        if not isinstance(aggregate, cls):
            raise NotFoundError(f"{cls.__name__.lower()} {aggregate_id} not found")
        return aggregate

    @staticmethod
    def _check_scope(aggregate: LedgerAggregate, ctx: CommandContext) -> None:
        team = aggregate.owning_team()
        if ctx.scoped and team is not None and team not in ctx.teams:
            raise OutOfScopeError(f"{ctx.meta.actor} may not act on team {team}")

    @staticmethod
    def _check_version(aggregate: LedgerAggregate, ctx: CommandContext) -> None:
        if ctx.if_match is not None and ctx.if_match != aggregate.version:
            raise StaleVersionError(ctx.if_match, aggregate.version)

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def new_id(self, requested: UUID | None, what: str) -> UUID:
        """The client's id for a new aggregate (refused if taken), else a fresh one."""
        if requested is None:
            return uuid4()
        if self.exists(requested):
            raise DomainError(f"{what} {requested} already exists")
        return requested

    def head_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    # -- writing -------------------------------------------------------------

    def update(
        self, cls: type[A], aggregate_id: UUID, ctx: CommandContext,
        change: Callable[[A], object], *, answer_id: UUID | None = None,
        created: bool = False,
    ) -> CommandResult:
        """Load → change → save: a command on one existing aggregate, in one statement.

        ``change`` calls the aggregate's command method (after checking what it refers
        to, if need be); :meth:`execute` saves what it recorded, with its guarantees.

        The aggregate is loaded once. For a caller scoped to some teams, that load
        comes first: another team's aggregate is refused (:class:`OutOfScopeError`),
        and a missing one is not found, before the idempotency key is looked at. For
        a caller of every team it comes after the key, inside :meth:`execute`. Either
        way ``If-Match`` is checked after the key, so a retry gets its first answer.
        ``created``: the command creates something inside the aggregate (an entity
        answered by ``answer_id``), so it answers as a create.
        """
        scoped = self._load_in_scope(cls, aggregate_id, ctx) if ctx.scoped else None

        def run() -> A:
            aggregate = scoped if scoped is not None else self._get(cls, aggregate_id)
            self._check_version(aggregate, ctx)
            change(aggregate)
            return aggregate

        return self.execute(ctx, run, created=created, answer_id=answer_id)

    def _load_in_scope(self, cls: type[A], aggregate_id: UUID, ctx: CommandContext) -> A:
        aggregate = self._get(cls, aggregate_id)
        self._check_scope(aggregate, ctx)
        return aggregate

    def execute(
        self, ctx: CommandContext, command: Callable[[], Changed],
        *, created: bool = False, answer_id: UUID | None = None,
    ) -> CommandResult:
        """Run ``command`` (load, call) and save what it changed, all or nothing.

        ``command`` returns the aggregate that answers (id, version, position), or a
        sequence whose first item answers followed by everything else it changed;
        all of it is saved in one ``save``, so a rule that spans aggregates (a global
        member id, one principal per member) holds atomically: a concurrent command
        that saved first makes this one fail on the unique (originator id, version)
        constraint. Private records are stored first and the answering aggregate's
        events last, so the answer's position is the last public position saved.

        With an idempotency key, a repeat returns the first answer and appends nothing.
        A business time too far ahead of the clock is refused before anything else;
        a command in an import run (``meta.import_run_id``) needs that run open
        (unknown: :class:`ValidationError`, finished: 409), after the retry check so
        a repeat still gets its first answer.
        """
        ctx.meta.check_business_time()
        record_id = None
        if ctx.idempotency_key:
            record_id = idempotency_record_id(ctx.meta.actor, ctx.idempotency_key)
            earlier = self._earlier_answer(record_id, ctx)
            if earlier is not None:
                return earlier
        if ctx.meta.import_run_id:
            self._require_open_run(ctx.meta.import_run_id)
        changed = command()
        items = [changed] if isinstance(changed, Aggregate) else list(changed)
        aggregate = items[0]
        if not isinstance(aggregate, LedgerAggregate):
            raise TypeError("a command's first aggregate must be a LedgerAggregate")
        others = [a for a in items[1:] if a is not aggregate]
        to_save: list[Aggregate] = [
            *(a for a in others if not isinstance(a, LedgerAggregate)),
            *(a for a in others if isinstance(a, LedgerAggregate)),
            aggregate,
        ]
        if record_id is not None:
            to_save.append(IdempotencyRecord.record(
                record_id, ctx.fingerprint, aggregate.id, aggregate.version, created,
                answer_id or aggregate.id,
            ))
        try:
            recordings = self.save(*to_save)
        except IntegrityError:
            if record_id is not None:
                earlier = self._earlier_answer(record_id, ctx)
                if earlier is not None:
                    return earlier
            what = f"{type(aggregate).__name__.lower()} {aggregate.id}"
            if others:
                what += " (or a record this command checked)"
            raise ConcurrencyError(
                f"{what} was changed by another command; reload and retry"
            ) from None
        position = max(
            (r.notification.id for r in recordings
             if r.domain_event.originator_id == aggregate.id),
            default=0,
        ) or self.head_position()  # a command that changed nothing (asked only then)
        self._wake(position)
        return CommandResult(answer_id or aggregate.id, aggregate.version, position, created)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """eventsourcing's ``save``, collecting with :class:`_Collected`."""
        processing_event = _Collected()
        processing_event.collect_events(*objs, **kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        self.notify(processing_event.events)
        return recordings

    def _require_open_run(self, run_id: str) -> None:
        try:
            run = self._get(ImportRun, UUID(run_id))
        except (ValueError, NotFoundError):
            raise ValidationError(
                f"import run {run_id!r} does not exist: open one with POST /v1/imports",
                import_run_id=run_id) from None
        run.require_open()

    def _earlier_answer(self, record_id: UUID, ctx: CommandContext) -> CommandResult | None:
        try:
            record = self.stored(record_id)
        except AggregateNotFoundError:
            return None
        if not isinstance(record, IdempotencyRecord):
            return None
        if record.fingerprint != ctx.fingerprint:
            raise IdempotencyKeyReusedError(
                "this Idempotency-Key was already used for a different request"
            )
        lookup: PositionLookup = self.recorder  # type: ignore[assignment]
        position = lookup.position_of(UUID(record.aggregate_id), record.aggregate_version)
        return CommandResult(
            UUID(record.answer_id), record.aggregate_version, position or 0, record.created
        )

    def close(self) -> None:
        """Close the recorder first where it can be (a recorder with a writer thread
        stores what is waiting), then the application's infrastructure."""
        close = getattr(self.recorder, "close", None)
        if callable(close):
            close()
        super().close()

    # -- followers -----------------------------------------------------------

    def add_listener(self, listener: Callable[[int], None]) -> None:
        """Call ``listener(position)`` after every save, so followers wake at once."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def _wake(self, position: int) -> None:
        for listener in list(self._listeners):
            listener(position)
