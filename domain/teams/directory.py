"""The write-side member directory: which team each member id is on, whether it is
active, and which principal acts as it. Commands check references against it.

Kept as private records, like idempotency keys (plain eventsourcing aggregates
without a ``CONTEXT``): the relay, the events feed, the hash chain, the folds and
the audit trail pass over them. They are saved in the same ``save`` as the team
events they follow, so the rules they carry hold atomically:

- ``MemberRecord`` (its id *is* the member id): a member id is global. A join whose
  id is taken anywhere (another team's member, any aggregate) is refused, and two
  concurrent joins of one id collide on the record's version 1.
- ``PrincipalRecord`` (id derived from the principal): one principal is bound to at
  most one active member; concurrent binds collide on its version.

The principal in each record is personal data of its member, sealed under the
member's key like the team events' (``domain/personal.py``); loaded records hold it
opened, or ``"[erased]"`` once the member is erased, which binds nobody.

Members that joined before the directory existed have no record. The directory is
derived from public team events only, so the first time a ledger without its marker
(``MemberIndex``) is used, the directory reads the teams' join and move-in events
once, answers from that reading in memory, and the first command that writes members
saves the missing records and the marker along with its own events (nothing is
written by a refused command or a read). A store where nobody has joined yet needs no
marker. A store restored from Kafka (private records are never published) rebuilds
the directory the same way.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.errors import ConcurrencyError, DomainError, ValidationError
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.personal import ERASED, MEMBER, MEMBER_RECORD, Personal
from domain.teams.aggregate import Team

DIRECTORY_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/member-directory")
INDEX_ID = uuid5(DIRECTORY_NAMESPACE, "index:v1")
"""The marker whose presence says every member has its record."""

R = TypeVar("R", bound=Aggregate)


def principal_record_id(principal: str) -> UUID:
    return uuid5(DIRECTORY_NAMESPACE, f"principal\n{principal}")


class MemberRecord(Aggregate):
    """A member's team, whether it is active, and its principal. Not public."""

    class Registered(Aggregate.Created):
        PERSONAL: ClassVar[Personal] = {"principal": MEMBER_RECORD}
        team_id: str
        active: bool
        principal: str | None

        def apply(self, record: Any) -> None:
            record.team_id = self.team_id
            record.active = self.active
            record.principal = self.principal

    class Moved(Aggregate.Event):
        team_id: str

        def apply(self, record: Any) -> None:
            record.team_id = self.team_id

    class Deactivated(Aggregate.Event):
        def apply(self, record: Any) -> None:
            record.active = False

    class Bound(Aggregate.Event):
        PERSONAL: ClassVar[Personal] = {"principal": MEMBER_RECORD}
        principal: str

        def apply(self, record: Any) -> None:
            record.principal = self.principal

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        active: bool
        principal: str | None

    @classmethod
    def register(cls, member_id: UUID, team_id: str, *, active: bool = True,
                 principal: str | None = None) -> MemberRecord:
        return cls._create(cls.Registered, id=member_id, team_id=team_id, active=active,
                           principal=principal)

    def move(self, team_id: UUID) -> None:
        self.trigger_event(self.Moved, team_id=str(team_id))

    def deactivate(self) -> None:
        self.trigger_event(self.Deactivated)

    def bind(self, principal: str) -> None:
        self.trigger_event(self.Bound, principal=principal)


class PrincipalRecord(Aggregate):
    """The member a principal was last bound to. Not public."""

    class Claimed(Aggregate.Created):
        # Sealed under the member's key like the team events' principal; the record's
        # id stays derived from the principal, so only someone who already knows a
        # principal can tell whether it was ever bound (as with every event's actor).
        PERSONAL: ClassVar[Personal] = {"principal": MEMBER}
        principal: str
        member_id: str

        def apply(self, record: Any) -> None:
            record.principal = self.principal
            record.member_id = self.member_id

    class Reclaimed(Aggregate.Event):
        member_id: str

        def apply(self, record: Any) -> None:
            record.member_id = self.member_id

    if TYPE_CHECKING:
        principal: str
        member_id: str

    @classmethod
    def claim(cls, principal: str, member_id: UUID) -> PrincipalRecord:
        return cls._create(cls.Claimed, id=principal_record_id(principal),
                           principal=principal, member_id=str(member_id))

    def reclaim(self, member_id: UUID) -> None:
        self.trigger_event(self.Reclaimed, member_id=str(member_id))


class MemberIndex(Aggregate):
    """The marker: every member has its record (``migrated`` had none before)."""

    class Built(Aggregate.Created):
        migrated: int

        def apply(self, index: Any) -> None:
            index.migrated = self.migrated

    if TYPE_CHECKING:
        migrated: int

    @classmethod
    def build(cls, migrated: int) -> MemberIndex:
        return cls._create(cls.Built, id=INDEX_ID, migrated=migrated)


@dataclass(frozen=True)
class Member:
    """What the directory knows of a member id."""

    member_id: str
    team_id: str
    active: bool
    principal: str | None


@dataclass(frozen=True)
class _Reading:
    """Members without a record, as read from the teams' events (oldest first)."""

    members: dict[str, Member]
    principals: dict[str, str]  # principal -> member id, for the active members
    seen: int  # member events read: none means nobody ever joined, nothing to mark


def _as_uuid(value: object) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


class DirectoryChanges:
    """The records one command reads and changes; saved with the command's events.

    While the directory's marker is missing, it also carries the records of the
    members read from the teams' events, and the marker itself.
    """

    def __init__(self, directory: MemberDirectory, reading: _Reading | None) -> None:
        self._directory = directory
        self._records: dict[UUID, Aggregate] = {}
        self.migrating = reading is not None
        if reading is not None:
            for m in reading.members.values():
                self._records[UUID(m.member_id)] = MemberRecord.register(
                    UUID(m.member_id), m.team_id, active=m.active, principal=m.principal)
            for principal, member_id in reading.principals.items():
                self._records[principal_record_id(principal)] = PrincipalRecord.claim(
                    principal, UUID(member_id))
            self._records[INDEX_ID] = MemberIndex.build(len(reading.members))

    def member(self, member_id: object) -> MemberRecord | None:
        key = _as_uuid(member_id)
        return None if key is None else self._get(key, MemberRecord)

    def principal(self, principal: str) -> PrincipalRecord | None:
        return self._get(principal_record_id(principal), PrincipalRecord)

    def register(self, member_id: UUID, team_id: UUID, principal: str | None) -> MemberRecord:
        record = MemberRecord.register(member_id, str(team_id), principal=principal)
        self._records[member_id] = record
        return record

    def claim(self, principal: str, member_id: UUID) -> None:
        """Bind ``principal`` to ``member_id``, unless an active member holds it."""
        record = self.principal(principal)
        if record is None:
            self._records[principal_record_id(principal)] = PrincipalRecord.claim(
                principal, member_id)
            return
        if record.member_id != str(member_id):
            holder = self.member(record.member_id)
            if holder is not None and holder.active and holder.principal == principal:
                raise DomainError(
                    f"principal {principal} is already bound to active member {record.member_id}"
                )
        # Always a new version, so a concurrent bind of the same principal collides.
        record.reclaim(member_id)

    def records(self) -> list[Aggregate]:
        return list(self._records.values())

    def _get(self, key: UUID, cls: type[R]) -> R | None:
        found = self._records.get(key)
        if found is None:
            found = self._directory.load(key, cls)
            if found is not None:
                self._records[key] = found
        return found if isinstance(found, cls) else None


class MemberDirectory:
    """Looks members up on the write side; one per ledger (:meth:`of`)."""

    _by_ledger: weakref.WeakKeyDictionary[Ledger, MemberDirectory] = (
        weakref.WeakKeyDictionary()
    )
    _by_ledger_lock = threading.Lock()

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._built = False
        self._reading: _Reading | None = None
        self._lock = threading.Lock()
        self._migration = threading.Lock()

    @classmethod
    def of(cls, ledger: Ledger) -> MemberDirectory:
        with cls._by_ledger_lock:
            directory = cls._by_ledger.get(ledger)
            if directory is None:
                directory = cls._by_ledger[ledger] = cls(ledger)
            return directory

    # -- reading -------------------------------------------------------------

    def load(self, key: UUID, cls: type[R]) -> R | None:
        try:
            found: object = self.ledger.stored(key)
        except AggregateNotFoundError:
            return None
        return found if isinstance(found, cls) else None

    def member(self, member_id: object) -> Member | None:
        """The member with this id, or None if no member has it."""
        key = _as_uuid(member_id)
        if key is None:
            return None
        record = self.load(key, MemberRecord)
        if record is not None:
            return Member(str(key), record.team_id, record.active, record.principal)
        reading = self._pending()
        return None if reading is None else reading.members.get(str(key))

    def require_active(self, member_id: object, what: str, *, team_id: object = None) -> None:
        """Refuse a reference to anyone but an active member (of ``team_id``, if given):
        unknown (or of another team) is a :class:`ValidationError` (422), left a
        :class:`DomainError` (409)."""
        member = self.member(member_id)
        if team_id is not None:
            if member is None or member.team_id != str(team_id):
                raise ValidationError(f"{what} {member_id} is not a member of team {team_id}")
            if not member.active:
                raise DomainError(f"{what} {member_id} has left team {team_id}")
            return
        if member is None:
            raise ValidationError(f"{what} {member_id} is not a member of any team")
        if not member.active:
            raise DomainError(f"{what} {member_id} has left team {member.team_id}")

    def taken(self, member_id: UUID) -> bool:
        """Whether a member or any aggregate already has this id."""
        return self.ledger.exists(member_id) or self.member(member_id) is not None

    # -- writing -------------------------------------------------------------

    def execute(
        self, ctx: CommandContext, build: Callable[[DirectoryChanges], Sequence[Aggregate]],
        *, created: bool = False, answer_id: UUID | None = None,
    ) -> CommandResult:
        """``Ledger.execute`` for a command that changes the directory: ``build`` gets
        the records to read and change and returns everything to save (the answering
        aggregate first)."""
        if self._pending() is None:
            return self._execute(ctx, build, created, answer_id)
        with self._migration:  # one migrating command at a time in this process
            return self._execute(ctx, build, created, answer_id)

    def _execute(
        self, ctx: CommandContext, build: Callable[[DirectoryChanges], Sequence[Aggregate]],
        created: bool, answer_id: UUID | None,
    ) -> CommandResult:
        used: list[DirectoryChanges] = []

        def run() -> Sequence[Aggregate]:
            changes = DirectoryChanges(self, self._pending())
            used.append(changes)
            built = build(changes)
            return [*built, *changes.records()]

        try:
            result = self.ledger.execute(ctx, run, created=created, answer_id=answer_id)
        except ConcurrencyError:
            self._forget()  # another process may have saved the records meanwhile
            raise
        if used and used[-1].migrating:
            self._migrated()
        return result

    # -- the one-time reading of members without records ----------------------

    def _pending(self) -> _Reading | None:
        """The members without records, while the marker is missing; else None."""
        if self._built:
            return None
        with self._lock:
            if self._built:
                return None
            if self.load(INDEX_ID, MemberIndex) is not None:
                self._built, self._reading = True, None
                return None
            if self._reading is None:
                reading = self._read_teams()
                if not reading.seen:  # nobody joined yet: every member will have a record
                    self._built = True
                    return None
                self._reading = reading
            return self._reading

    def _migrated(self) -> None:
        with self._lock:
            self._built, self._reading = True, None

    def _forget(self) -> None:
        with self._lock:
            if not self._built:
                self._reading = None

    def _read_teams(self) -> _Reading:
        """Every member id's latest team, from the teams' join and move-in events."""
        topics = [get_topic(Team.MemberJoined), get_topic(Team.MemberMovedIn)]
        latest: dict[str, str] = {}  # member id -> team id, in position order
        seen = 0
        start = 1
        recorder = self.ledger.recorder
        while True:
            batch = recorder.select_notifications(start, 1000, topics=topics)
            if not batch:
                break
            seen += len(batch)
            for notification in batch:
                event = self.ledger.mapper.to_domain_event(notification)
                member_id = str(event.member_id)  # type: ignore[attr-defined]
                latest.pop(member_id, None)
                latest[member_id] = str(notification.originator_id)
            start = batch[-1].id + 1
        teams: dict[str, Team] = {}
        members: dict[str, Member] = {}
        principals: dict[str, str] = {}
        for member_id, team_id in latest.items():
            if self.ledger.exists(UUID(member_id)):
                continue  # it has its record, or another aggregate took the id
            if team_id not in teams:
                teams[team_id] = self.ledger.load(Team, UUID(team_id))
            state = teams[team_id].members.get(member_id) or {}
            active = bool(state.get("active")) and not state.get("moved_to")
            principal = state.get("principal")
            members[member_id] = Member(member_id, team_id, active, principal)
            if active and principal and principal != ERASED and self.load(
                principal_record_id(principal), PrincipalRecord
            ) is None:
                principals[principal] = member_id  # the latest join holds it
        return _Reading(members, principals, seen)
