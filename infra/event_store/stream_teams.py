"""The team each stored event belongs to, decided from the event store (the write side).

The events feed filters a team-scoped token's page by team before it answers, so it
must not trust read models, which may lag behind the log it reads. The rule is the
folds' (:mod:`projections.team_scope`): a team's own events belong to it; the events
of a goal, incident or feedback item belong to the team named by the creating event
of its stream, read once per aggregate id from the store and cached (a stream's
creating event never changes); anything else belongs to no team.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from uuid import UUID

from domain.envelope import EventEnvelope, envelope_of
from domain.ledger import Ledger
from infra.personal.mapper import sealed_reader
from projections.team_scope import TEAM_CONTEXT, owned_by_a_team, team_of_stream

MAX_STREAMS = 100_000
"""Streams whose team is kept in memory (least recently used go first)."""

_NO_TEAM = ""


class StreamTeams:
    """Bounded, thread-safe cache of each stream's team, filled from the event store."""

    def __init__(self, ledger: Ledger, max_streams: int = MAX_STREAMS) -> None:
        self._ledger = ledger
        self._max = max_streams
        self._teams: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.store_reads = 0

    def team_of(self, envelope: EventEnvelope) -> str | None:
        """The team ``envelope`` belongs to (None: no team)."""
        if envelope.context == TEAM_CONTEXT or not owned_by_a_team(envelope.context):
            return team_of_stream(envelope.context, envelope.subject, {})
        subject = envelope.subject
        with self._lock:
            known = self._teams.get(subject)
            if known is not None:
                self._teams.move_to_end(subject)
                return known or None
        if envelope.stream_version <= 1:
            team = team_of_stream(envelope.context, subject, envelope.data)
        else:
            team = self._from_store(envelope.context, subject)
        with self._lock:
            self._teams[subject] = team or _NO_TEAM
            self._teams.move_to_end(subject)
            while len(self._teams) > self._max:
                self._teams.popitem(last=False)
        return team

    def _from_store(self, context: str, subject: str) -> str | None:
        try:
            originator = UUID(subject)
        except ValueError:
            return None
        self.store_reads += 1
        stored = self._ledger.recorder.select_events(originator, lte=1, limit=1)
        if not stored:
            return None
        creating = envelope_of(sealed_reader(self._ledger.mapper)(stored[0]), 0)
        return team_of_stream(context, subject, creating.data)


_BY_LEDGER: weakref.WeakKeyDictionary[Ledger, StreamTeams] = weakref.WeakKeyDictionary()
_BY_LEDGER_LOCK = threading.Lock()


def stream_teams(ledger: Ledger) -> StreamTeams:
    """The cache of ``ledger``'s streams, one per ledger for the life of the ledger."""
    with _BY_LEDGER_LOCK:
        teams = _BY_LEDGER.get(ledger)
        if teams is None:
            teams = _BY_LEDGER[ledger] = StreamTeams(ledger)
        return teams
