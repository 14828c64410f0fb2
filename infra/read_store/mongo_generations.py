"""MongoDB generations: the pointer to the serving generation, and each generation's
collections (blue/green rebuilds without transactions).

Every collection a store touches is named ``<prefix><collection>``. The prefix of the
generation that serves is held by one pointer document,
``generations/{_id: "active", prefix, group_suffix, switched_at}``; no pointer means
prefix ``""`` (the unprefixed names of deployments older than generations).
``group_suffix`` names the consumer group that projects into that generation
(``projector_group + group_suffix``). Switching is one single-document write of the
pointer: atomic on any server, with neither transactions nor ``renameCollection``
(FerretDB v1 guarantees neither). A pointer made without a fixed prefix *follows* the
pointer document, re-reading it at most once per :data:`FOLLOW_SECONDS`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from infra.read_store.mongo_commands import duplicates
from projections.catalog import INDEXED_FIELDS
from projections.registry import ALL_FOLDS

GENERATIONS = "generations"
"""The collection of the pointer to the active generation (never prefixed)."""
_ACTIVE = "active"
FOLLOW_SECONDS = 1.0
"""How stale a following store's idea of the active generation may get."""
_PREFIX = re.compile(r"^[a-z][a-z0-9_]*_$")
_GROUP_SUFFIX = re.compile(r"^[A-Za-z0-9._-]*$")  # what Kafka allows in a group id
CHECKPOINTS = "checkpoints"
# Written through a store by the Kafka projector and the dead-letter tools; named
# here rather than imported so the store does not depend on infra.kafka.
_BOOKKEEPING = (CHECKPOINTS, "parked", "deadletter_decisions")
STORE_COLLECTIONS: frozenset[str] = frozenset(
    {fold.collection for fold in ALL_FOLDS} | INDEXED_FIELDS.keys() | set(_BOOKKEEPING)
)
"""The unprefixed names this store creates: the legacy generation (prefix ``""``)."""


class GenerationError(RuntimeError):
    """A generation operation that would break the serving one, or lost a race."""


def check_prefix(prefix: str) -> str:
    """A generation prefix: ``^[a-z][a-z0-9_]*_$``, and not the start of an unprefixed
    name (dropping it would take that collection along)."""
    if not _PREFIX.match(prefix):
        raise ValueError(f"bad generation prefix {prefix!r} (want ^[a-z][a-z0-9_]*_$)")
    clash = sorted(name for name in STORE_COLLECTIONS | {GENERATIONS}
                   if name.startswith(prefix))
    if clash:
        raise ValueError(f"generation prefix {prefix!r} would also match {clash[0]!r}")
    return prefix


class GenerationPointer:
    """One store's view of the generations in database ``db``: the ``fixed`` prefix it
    reads and writes, or (``fixed=None``) the pointer's, followed."""

    def __init__(self, db: Any, fixed: str | None) -> None:
        self._db = db
        self._fixed = check_prefix(fixed) if fixed else fixed
        self._followed: tuple[float, str] | None = None  # (resolved at, prefix)

    def prefix(self) -> str:
        """The generation the next operation uses: fixed, or the pointer's (cached)."""
        if self._fixed is not None:
            return self._fixed
        followed = self._followed
        if followed is None or time.monotonic() - followed[0] >= FOLLOW_SECONDS:
            return self.active()[0]
        return followed[1]

    def active(self) -> tuple[str, str]:
        """``(prefix, group_suffix)`` of the serving generation, read from the pointer
        now (a following store also moves to it)."""
        active = self.read()
        if self._fixed is None:
            self._followed = (time.monotonic(), active[0])
        return active

    def read(self) -> tuple[str, str]:
        doc = self._db[GENERATIONS].find_one({"_id": _ACTIVE})
        if doc is None:
            return "", ""
        return check_prefix(str(doc["prefix"])), str(doc.get("group_suffix", ""))

    def switch(self, prefix: str, group_suffix: str, *,
               expected_prefix: str | None = None) -> None:
        """Make ``prefix`` the serving generation: one write of the pointer document.

        ``expected_prefix``: switch only if that generation is still the active one
        (else :class:`GenerationError`), so two rebuilds cannot silently overwrite
        each other's switch.
        """
        check_prefix(prefix)
        if not _GROUP_SUFFIX.match(group_suffix):
            raise ValueError(f"bad consumer group suffix {group_suffix!r}")
        pointer = {"_id": _ACTIVE, "prefix": prefix, "group_suffix": group_suffix,
                   "switched_at": datetime.now(UTC).isoformat()}
        if expected_prefix == "":  # no pointer yet: only an insert may create it
            response = self._db.command("insert", GENERATIONS, documents=[pointer])
            if duplicates(response):
                raise GenerationError("another switch happened meanwhile")
        else:
            query: dict[str, Any] = {"_id": _ACTIVE}
            if expected_prefix is not None:
                query["prefix"] = expected_prefix
            response = self._db.command("update", GENERATIONS, updates=[{
                "q": query, "u": pointer, "upsert": expected_prefix is None,
            }])
            duplicates(response)
            if expected_prefix is not None and not response.get("n"):
                raise GenerationError(
                    f"generation {expected_prefix!r} is no longer the active one")
        self._followed = None

    def collections(self, prefix: str) -> list[str]:
        """The collections of generation ``prefix`` (never the pointer's, never the
        active generation's)."""
        active, _ = self.read()
        names = self._db.list_collection_names()
        if prefix == "":  # the legacy names alone: a bare "" would match everything
            return sorted(name for name in names if name in STORE_COLLECTIONS)
        check_prefix(prefix)
        return sorted(
            name for name in names
            if name.startswith(prefix) and name != GENERATIONS
            and not (active and active != prefix and name.startswith(active))
        )

    def drop(self, prefix: str) -> list[str]:
        """Drop every collection of generation ``prefix``; the names dropped.
        Refuses (:class:`GenerationError`) to drop the active generation."""
        if prefix == self.read()[0]:
            raise GenerationError(f"refusing to drop the active generation {prefix!r}")
        doomed = self.collections(prefix)
        for name in doomed:
            self._db.drop_collection(name)
        return doomed
