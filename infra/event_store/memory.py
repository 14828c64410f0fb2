"""The in-memory event store: eventsourcing's POPO recorder with what OpsLedger adds to
every recorder (:class:`~infra.event_store.LedgerRecorder`): the hash chain, extended
under the recorder's lock as events are inserted, and the position of a stored event.

For specifications and contract tests; nothing survives the process.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from domain.ledger import Ledger
from infra.event_store import chained
from infra.event_store.hash_chain import GENESIS, StoredEventHasher, link


class LedgerPOPORecorder(POPOApplicationRecorder):
    """The in-memory recorder, plus the hash chain and the position look-up that
    idempotent retries need.

    The chain links are computed before anything is stored, under the lock that
    inserts the events, so a failing hasher stores nothing and no two events can
    claim the same predecessor (as inside the SQLite recorder's transaction).
    """

    hasher: StoredEventHasher | None = None

    def __init__(self) -> None:
        super().__init__()
        self._chain: list[tuple[int, str, str, str]] = []  # (position, id, prev, hash)
        self._chain_positions: list[int] = []

    def _update_table(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        links = self._links(stored_events, len(self._stored_events) + 1)
        positions = super()._update_table(stored_events, **kwargs)
        self._chain += links
        self._chain_positions += [row[0] for row in links]
        return positions

    def _links(self, stored_events: Sequence[StoredEvent], first: int
               ) -> list[tuple[int, str, str, str]]:
        if self.hasher is None:
            return []
        prev = self._chain[-1][3] if self._chain else GENESIS
        links = []
        for position, stored in enumerate(stored_events, start=first):
            hashed = self.hasher(stored, position)
            if hashed is None:
                continue
            event_id, canonical = hashed
            current = link(prev, canonical)
            links.append((position, event_id, prev, current))
            prev = current
        return links

    def hashes(self, start: int, limit: int) -> list[tuple[int, str, str, str]]:
        """Chain rows (position, event id, prev hash, hash) from ``start``, in order."""
        with self._database_lock:
            i = bisect_left(self._chain_positions, start)
            return self._chain[i : i + max(limit, 0)]

    def hash_at(self, position: int) -> tuple[str, str] | None:
        """(prev hash, hash) of the public event at ``position``."""
        with self._database_lock:
            i = bisect_left(self._chain_positions, position)
            if i < len(self._chain) and self._chain_positions[i] == position:
                return self._chain[i][2], self._chain[i][3]
        return None

    def head_hash(self) -> tuple[int, str]:
        with self._database_lock:
            return (self._chain[-1][0], self._chain[-1][3]) if self._chain else (0, GENESIS)

    def position_of(self, originator_id: UUID, originator_version: int) -> int | None:
        with self._database_lock:
            index = self._stored_events_index[str(originator_id)].get(originator_version)
        return None if index is None else index + 1


class _MemoryLedger(Ledger):
    def construct_recorder(self) -> ApplicationRecorder:
        return LedgerPOPORecorder()


def memory_ledger() -> Ledger:
    """A ledger over a fresh in-memory store, chaining every public event."""
    return chained(_MemoryLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
