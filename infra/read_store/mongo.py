"""The distributed read store: documents in MongoDB (or FerretDB v1), one collection each.

The :mod:`~infra.read_store.port` contract, without transactions:

- Each document is stored as the engine made it, with ``_id`` = its id, so reads return
  exactly what :class:`~infra.read_store.sqlite.SQLiteReadStore` returns.
- ``commit`` makes every document write idempotent and monotone on its own: write-once
  documents (``APPEND_ONLY``) are inserted and a stored copy is kept; ``owned`` ones are
  replaced by ``_id``; any other is inserted, or replaced only if no stream it was built
  from (``_streams``) is ahead in the stored one (straight away, without the insert,
  when this store has seen it stored: :mod:`.mongo_stored`).
- Collections are written in dependency order (those no fold looks up, then the
  entity views, ``audit_trail`` last) and the checkpoint after them, moving forward
  only; so a crash anywhere leaves a state that redelivery repairs, and
  ``has_position(p)`` (an audit record at ``p``) implies every effect of its batch is
  stored.
- Only what FerretDB v1 supports is used: single-collection finds, sorts, plain
  indexes and raw ``insert``/``update`` commands (:mod:`.mongo_commands`).
- Collection names carry the prefix of a generation (:mod:`.mongo_generations`): a
  fixed one, or the serving one, followed. One commit writes into one generation.

Why it is built this way (the guard, the write order, FerretDB's index use): see
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import Any

import pymongo
from bson.raw_bson import RawBSONDocument

from infra.read_store.mongo_commands import batches, duplicates
from infra.read_store.mongo_generations import CHECKPOINTS, GenerationPointer, check_prefix
from infra.read_store.mongo_stored import StoredIds
from infra.read_store.port import (
    NAME,
    AnyOf,
    CheckpointMovedError,
    Filters,
    Page,
    PagedIteration,
    Range,
    check_name,
    decode_cursor,
    encode_cursor,
)
from projections import audit_trail, views
from projections.catalog import INDEXED_FIELDS, LIST_ORDERS
from projections.fold import Document
from projections.registry import APPEND_ONLY

# Written after the collections whose folds look them up, audit last of all.
_LOOKED_UP = frozenset(fold.collection for fold in views.FOLDS)
_AUDIT = audit_trail.COLLECTION
_MAX_INSERTS = 1000  # documents per insert command
# Replacements per update command. FerretDB v1 (SQLite) keeps the cursor of every
# matched statement open until its command ends, and a database has 100 connections:
# a command with ~100 matches deadlocks that database. Keep well below, so a few
# writers and the readers can share the pool.
_MAX_REPLACES = 20
_READ_CHUNK = 500
_STORED_IDS = 200_000  # ids remembered as stored (mongo_stored), about 30 MB at most
_MIN_READS_PER_THREAD = 8  # fewer finds than this are not worth a thread
# Owned documents replaced per job; a replacement costs FerretDB a statement and a
# transaction of its own, several times an inserted row (the job's weight).
_REPLACES_PER_JOB = 100
_REPLACE_WEIGHT = 5


def _field(name: str) -> str:
    if name != "_id" and not NAME.match(name.lstrip("_")):
        raise ValueError(f"bad field name {name!r}")
    return name


def _write_rank(collection: str) -> int:
    if collection == _AUDIT:
        return 2
    return 1 if collection in _LOOKED_UP else 0


def _runs(docs: list[Document], size: int) -> list[list[Document]]:
    return [docs[i : i + size] for i in range(0, len(docs), size)]


def _note(keys: set[tuple[str, str]], collection: str, doc_id: str) -> None:
    keys.add((collection, doc_id))


def _guard(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Matches the stored document only if the new one is not behind it on any stream."""
    query: dict[str, Any] = {"_id": doc["_id"]}
    for stream, version in (doc.get("_streams") or {}).items():
        if not stream or "." in stream or stream.startswith("$"):
            raise ValueError(f"stream id {stream!r} cannot be a MongoDB field name")
        query[f"_streams.{stream}"] = {"$not": {"$gt": version}}
    return query


class MongoReadStore(PagedIteration):
    def __init__(
        self, uri: str, db_name: str, *, prefix: str | None = None,
        client: pymongo.MongoClient | None = None,
        server_selection_timeout_ms: int = 5000, writers: int = 2, readers: int = 4,
    ) -> None:
        """``prefix``: the generation to read and write (``""``: the unprefixed one);
        ``None`` follows the active generation's pointer. ``writers``: the commands a
        commit keeps in flight; ``readers``: the finds by id a ``get_many`` on
        FerretDB keeps in flight."""
        fixed = check_prefix(prefix) if prefix else prefix  # before connecting
        self._writers = writers
        self._readers = readers
        self._pool: ThreadPoolExecutor | None = None
        self._read_pool: ThreadPoolExecutor | None = None
        self._stored = StoredIds(_STORED_IDS)
        self._owns_client = client is None
        self._client: pymongo.MongoClient = client or pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=server_selection_timeout_ms
        )
        self._db = self._client[db_name]
        self._generations = GenerationPointer(self._db, fixed)
        self.is_ferretdb = "ferretdbVersion" in self._client.admin.command("buildInfo")
        if self.is_ferretdb:
            return
        prefix_now = self._prefix()
        for collection, fields in INDEXED_FIELDS.items():
            target = self._db[prefix_now + check_name(collection)]
            for name in fields:
                target.create_index([(_field(name), pymongo.ASCENDING),
                                     ("_id", pymongo.ASCENDING)])
            compound = LIST_ORDERS.get(collection)
            if compound:
                target.create_index([*((_field(n), pymongo.ASCENDING) for n in compound),
                                     ("_id", pymongo.ASCENDING)])

    @property
    def client(self) -> pymongo.MongoClient:
        """The client, to share with stores of other generations (``client=``)."""
        return self._client

    # -- generations (see infra.read_store.mongo_generations) -------------------

    def _prefix(self) -> str:
        """The generation this operation uses: fixed, or the pointer's (cached)."""
        return self._generations.prefix()

    def _target(self, collection: str, prefix: str | None = None) -> Any:
        return self._db[(self._prefix() if prefix is None else prefix)
                        + check_name(collection)]

    def current_prefix(self) -> str:
        """The prefix of the generation the next read or write uses."""
        return self._prefix()

    def active_generation(self) -> tuple[str, str]:
        """``(prefix, group_suffix)`` of the serving generation, read from the pointer
        now (a following store also moves to it)."""
        return self._generations.active()

    def switch_generation(self, prefix: str, group_suffix: str, *,
                          expected_prefix: str | None = None) -> None:
        """Make ``prefix`` the serving generation (:meth:`.GenerationPointer.switch`)."""
        self._generations.switch(prefix, group_suffix, expected_prefix=expected_prefix)

    def generation_collections(self, prefix: str) -> list[str]:
        """The collections of generation ``prefix`` (never the pointer's, never the
        active generation's)."""
        return self._generations.collections(prefix)

    def drop_generation(self, prefix: str) -> list[str]:
        """Drop every collection of generation ``prefix``; the names dropped.
        Refuses (:class:`~.mongo_generations.GenerationError`) to drop the active one."""
        return self._generations.drop(prefix)

    # -- reads -----------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Document | None:
        return self._target(collection).find_one({"_id": doc_id})

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        target = self._target(collection)
        found: dict[str, Document] = {}
        if self.is_ferretdb:  # one indexed read per id beats one scan per chunk
            found = self._find_each(target, doc_ids)
        else:
            for i in range(0, len(doc_ids), _READ_CHUNK):
                part = doc_ids[i : i + _READ_CHUNK]
                found.update((doc["_id"], doc) for doc in target.find({"_id": {"$in": part}}))
        self._stored.add(target.name, found)  # what a batch read, it may write back
        return found

    def _find_each(self, target: Any, doc_ids: list[str]) -> dict[str, Document]:
        """One find by id each, several in flight: each is a round trip, and FerretDB
        answers reads side by side (the projector waits for these with nothing else
        to do)."""

        def find(ids: list[str]) -> dict[str, Document]:
            return {i: d for i in ids if (d := target.find_one({"_id": i})) is not None}

        if self._readers <= 1 or len(doc_ids) < 2 * _MIN_READS_PER_THREAD:
            return find(doc_ids)
        if self._read_pool is None:
            self._read_pool = ThreadPoolExecutor(self._readers,
                                                 thread_name_prefix="mongo-reader")
        parts = min(self._readers, len(doc_ids) // _MIN_READS_PER_THREAD)
        found: dict[str, Document] = {}
        for part in self._read_pool.map(find, [doc_ids[i::parts] for i in range(parts)]):
            found.update(part)
        return found

    def has_position(self, position: int) -> bool:
        found = self._target(_AUDIT).find_one({"position": position}, {"_id": 1})
        return found is not None

    @staticmethod
    def _clauses(filters: Filters) -> list[dict[str, Any]] | None:
        """Query clauses, or None when no document can match (as in SQL, ``= NULL``)."""
        clauses: list[dict[str, Any]] = []
        for name, value in filters.items():
            field = _field(name)
            if isinstance(value, Range):
                bounds = {}
                if value.gte is not None:
                    bounds["$gte"] = value.gte
                if value.lte is not None:
                    bounds["$lte"] = value.lte
                if bounds:
                    clauses.append({field: bounds})
            elif isinstance(value, AnyOf):
                present = value.present()  # $in: [null] would match a missing field
                if not present:
                    return None
                clauses.append({field: {"$in": present}})
            elif value is None:
                return None
            else:
                clauses.append({field: value})
        return clauses

    def find(
        self, collection: str, filters: Filters, *, order_by: str = "_id",
        limit: int = 50, cursor: str | None = None,
    ) -> Page:
        target = self._target(collection)
        order = _field(order_by)
        clauses = self._clauses(filters)
        after = decode_cursor(cursor) if cursor else None
        if clauses is None:
            return Page([], None)
        if after is not None:
            after_value, after_id = after
            if order == "_id":
                clauses.append({"_id": {"$gt": after_id}})
            elif after_value is None:  # nulls (and missing fields) sort first
                clauses.append({"$or": [{order: {"$ne": None}}, {"_id": {"$gt": after_id}}]})
            else:
                clauses.append({"$or": [{order: {"$gt": after_value}},
                                        {order: after_value, "_id": {"$gt": after_id}}]})
        query: dict[str, Any] = (
            {} if not clauses else clauses[0] if len(clauses) == 1 else {"$and": clauses}
        )
        sort = [("_id", pymongo.ASCENDING)]
        if order != "_id":
            sort.insert(0, (order, pymongo.ASCENDING))
        rows = list(target.find(query).sort(sort).limit(limit + 1))
        items = rows[:limit]
        next_cursor = None
        if len(rows) > limit and items:
            last = items[-1]
            next_cursor = encode_cursor(
                last.get(order) if order != "_id" else None, last["_id"]
            )
        return Page(items, next_cursor)

    def checkpoint(self, name: str) -> int:
        return self._checkpoint_in(self._prefix(), name)

    def _checkpoint_in(self, prefix: str, name: str) -> int:
        found = self._target(CHECKPOINTS, prefix).find_one({"_id": name})
        return int(found["position"]) if found else 0

    # -- writes ----------------------------------------------------------------

    def commit(
        self, changes: Mapping[tuple[str, str], Document], checkpoint: tuple[str, int],
        *, expected: int | None = None, owned: AbstractSet[tuple[str, str]] = frozenset(),
    ) -> AbstractSet[tuple[str, str]]:
        # Without transactions this check is advisory (nothing holds other writers
        # off between it and the writes); the stream guards keep the writes safe.
        prefix = self._prefix()  # one generation for the whole commit
        if expected is not None and self._checkpoint_in(prefix, checkpoint[0]) != expected:
            raise CheckpointMovedError(checkpoint[0])
        inserts: dict[str, list[Document]] = defaultdict(list)
        guarded: dict[str, list[Document]] = defaultdict(list)  # known stored, not owned
        by_id: dict[str, list[Document]] = defaultdict(list)
        trust = self.is_ferretdb
        stored = self._stored
        for (collection, doc_id), doc in changes.items():
            name = check_name(collection)
            if collection in APPEND_ONLY:
                inserts[name].append({**doc, "_id": doc_id})
            elif trust and (collection, doc_id) in owned:
                by_id[name].append({**doc, "_id": doc_id})
            elif (prefix + name, doc_id) in stored:
                guarded[name].append({**doc, "_id": doc_id})
            else:
                inserts[name].append({**doc, "_id": doc_id})
        uncertain: set[tuple[str, str]] = set()  # filled by the writer threads
        # Independent jobs per rank, each one command or a few, so the writer threads
        # stay busy to the end of a rank: (weight, job), the heaviest started first.
        ranks: dict[int, list[tuple[int, Callable[[], None]]]] = defaultdict(list)
        for collection, docs in inserts.items():
            target, rank = prefix + collection, ranks[_write_rank(collection)]
            for part in _runs(docs, _MAX_INSERTS):
                if collection in APPEND_ONLY:
                    rank.append((len(part), partial(self._insert_once, target, part)))
                else:
                    rank.append((len(part), partial(
                        self._insert_or_replace, target, part,
                        partial(_note, uncertain, collection))))
        for collection, docs in by_id.items():
            target, rank = prefix + collection, ranks[_write_rank(collection)]
            for part in _runs(docs, _REPLACES_PER_JOB):
                rank.append((len(part) * _REPLACE_WEIGHT,
                             partial(self._replace_by_id, target, part)))
        for collection, docs in guarded.items():
            uncertain.update((collection, doc["_id"]) for doc in docs)
            target, rank = prefix + collection, ranks[_write_rank(collection)]
            for part in _runs(docs, _REPLACES_PER_JOB):
                rank.append((len(part) * _REPLACE_WEIGHT,
                             partial(self._replace_guarded, target, part)))
        for rank_jobs in (ranks[r] for r in sorted(ranks)):
            rank_jobs.sort(key=lambda job: -job[0])
            self._run_all([job for _, job in rank_jobs])
        name, position = checkpoint
        response = self._db.command("update", prefix + CHECKPOINTS, updates=[{
            "q": {"_id": name, "position": {"$lt": position}},
            "u": {"$set": {"position": position}},
            "upsert": True,
        }])
        duplicates(response)  # a duplicate: the checkpoint is already there or further
        return frozenset(uncertain)

    def _run_all(self, jobs: list[Callable[[], None]]) -> None:
        """Run ``jobs`` on the writer threads; all finish before the first error is raised.

        FerretDB (SQLite) still writes one statement at a time, but its decoding and
        our encoding overlap; MongoDB writes in parallel.
        """
        if len(jobs) <= 1 or self._writers <= 1:
            for job in jobs:
                job()
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._writers, thread_name_prefix="mongo-writer")
        futures = [self._pool.submit(job) for job in jobs]
        wait(futures)
        for future in futures:
            future.result()

    # The write helpers below take the generation's full collection name.

    def _insert_once(self, collection: str, docs: list[Document]) -> None:
        """Insert write-once documents; one already stored is kept as it is."""
        for batch in batches(docs, _MAX_INSERTS):
            duplicates(self._db.command("insert", collection, documents=batch, ordered=False))

    def _insert_or_replace(self, collection: str, docs: list[Document],
                           met_stored: Callable[[str], None]) -> None:
        """Insert the documents; replace the stored ones the guard lets through (each
        named to ``met_stored``: the guard may keep the stored copy)."""
        stored: list[RawBSONDocument] = []
        for batch in batches(docs, _MAX_INSERTS):
            response = self._db.command("insert", collection, documents=batch, ordered=False)
            stored += [batch[i] for i in duplicates(response)]
        self._stored.add(collection, (doc["_id"] for doc in docs))
        for doc in stored:
            met_stored(doc["_id"])
        self._replace_guarded(collection, stored)

    def _replace_guarded(self, collection: str, docs: list[Document] | list[RawBSONDocument],
                         ) -> None:
        """Replace stored documents where the guard lets them through."""
        replacements = [{"q": _guard(doc), "u": doc} for doc in docs]
        for batch in batches(replacements, _MAX_REPLACES):
            # upsert is off: a guard that misses means "this or a newer state is stored"
            duplicates(self._db.command("update", collection, updates=batch, ordered=False))

    def _replace_by_id(self, collection: str, docs: list[Document]) -> None:
        """Upsert owned documents by id (the only filter FerretDB v1 can index)."""
        updates = [{"q": {"_id": doc["_id"]}, "u": doc, "upsert": True} for doc in docs]
        for batch in batches(updates, _MAX_REPLACES):
            duplicates(self._db.command("update", collection, updates=batch, ordered=True))
        self._stored.add(collection, (doc["_id"] for doc in docs))

    def ping(self) -> None:
        self._client.admin.command("ping")

    def close(self) -> None:
        for pool in (self._pool, self._read_pool):
            if pool is not None:
                pool.shutdown(wait=True)
        self._pool = self._read_pool = None
        if self._owns_client:
            self._client.close()
