"""Trainings that assign themselves when a member takes a role that requires them.

The decision: the command that changes a member's role records the assignments, in
the same save (not a process reacting to ``RoleAssigned`` later). So the assignment
is atomic with the role change, has the same actor, correlation and business time,
and there is no window in which a member holds a role without its trainings, nor a
second process to run, restart or replay in either mode.

Which trainings a team has is kept on the write side in a private record per team
(:class:`TeamTrainings`, no context: never published, like the member directory),
saved with every ``TrainingDefined``; so a concurrent definition and role change
collide on it rather than miss each other. A store restored from Kafka has no
private records: a team without its record reads its trainings from the log once.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from domain.ledger import Ledger
from domain.meta import CommandMeta
from domain.people.training import Training

INDEX_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/people/team-trainings")
PAGE = 1000


def index_id(team_id: object) -> UUID:
    return uuid5(INDEX_NAMESPACE, str(team_id))


class TeamTrainings(Aggregate):
    """The ids of a team's trainings. Not public."""

    class Started(Aggregate.Created):
        training_ids: list[str]

        def apply(self, index: Any) -> None:
            index.training_ids = list(self.training_ids)

    class Added(Aggregate.Event):
        training_id: str

        def apply(self, index: Any) -> None:
            index.training_ids.append(self.training_id)

    if TYPE_CHECKING:
        training_ids: list[str]

    @classmethod
    def start(cls, team_id: object, training_ids: list[str]) -> TeamTrainings:
        return cls._create(cls.Started, id=index_id(team_id), training_ids=training_ids)

    def add(self, training_id: UUID) -> None:
        self.trigger_event(self.Added, training_id=str(training_id))


class Requirements:
    """The trainings of a team, and what a member taking a role there must do."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def index(self, team_id: object) -> TeamTrainings:
        """The team's record (a new one, from the log, when it has none yet)."""
        try:
            found: object = self.ledger.stored(index_id(team_id))
        except AggregateNotFoundError:
            return TeamTrainings.start(team_id, self._read_log(str(team_id)))
        if not isinstance(found, TeamTrainings):  # pragma: no cover - ids are namespaced
            raise TypeError(f"{index_id(team_id)} is not a team's trainings")
        return found

    def trainings(self, team_id: object) -> list[Training]:
        return [self.ledger.load(Training, UUID(t)) for t in self.index(team_id).training_ids]

    def taking_role(self, team_id: object, member_id: UUID, role: str, meta: CommandMeta,
                    effective: date | None = None) -> list[Aggregate]:
        """The trainings ``role`` requires that the member now has to do, each with its
        new assignment recorded (to save with the role change)."""
        return [training for training in self.trainings(team_id)
                if training.require_of(member_id, role, meta, effective)]

    def _read_log(self, team_id: str) -> list[str]:
        """The team's trainings from their ``TrainingDefined`` events (a store without
        private records: restored from Kafka)."""
        topics = [get_topic(Training.TrainingDefined)]
        found: list[str] = []
        start = 1
        recorder = self.ledger.recorder
        while True:  # bounded: each page moves past PAGE notifications or ends it
            batch = recorder.select_notifications(start, PAGE, topics=topics)
            if not batch:
                return found
            for notification in batch:
                event = self.ledger.mapper.to_domain_event(notification)
                if getattr(event, "team_id", None) == team_id:
                    found.append(str(notification.originator_id))
            start = batch[-1].id + 1
