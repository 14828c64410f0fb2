"""The distributed read store: documents in MongoDB (or FerretDB), one collection each.

Each document is stored as the engine made it, with ``_id`` = the document's id, so
reads return exactly what :class:`~infra.read_store.sqlite.SQLiteReadStore`
returns (bookkeeping keys included; the API strips them with
:func:`projections.fold.public`).

Only what FerretDB v1 supports is used: single-collection finds with ``$or``/``$in``/
``$gt``-style operators, sorts, plain indexes and update commands. No transactions,
change streams, aggregation stages or retryable-write tricks.

Writes without transactions
---------------------------
``commit(changes, checkpoint)`` makes every document write idempotent and monotone on
its own, then orders the writes so that a crash anywhere leaves a state that
redelivery repairs:

1. Per collection, the documents are first inserted (one unordered ``insert``); a
   duplicate key error 11000 means the id is already stored, and only those
   documents are then replaced, under a guard: the replacement applies only if no
   stream the new document was built from is *ahead* in the stored one (for every
   ``(stream, version)`` in the new ``_streams``, the stored ``_streams.<stream>``
   is missing or ``<= version``). A guard that misses means "this or a newer state
   is already stored": nothing is written. So the same changes committed twice, or
   an older document committed after a newer one, change nothing; any error other
   than 11000 is raised. The guard compares per-stream versions rather than
   ``_position``: a document fed by several aggregates (a member moved between teams)
   can receive an event with a lower global position after one with a higher
   position when Kafka partitions interleave, and a ``_position`` guard would drop
   that event for ever.
2. Collections are written in dependency order: first those no fold looks up
   (history records, timeline entries), then the entity views the other folds look
   up, and ``audit_trail`` last of all. After a crash, a redelivered batch is folded
   again: every document already written carries the event in its ``_streams`` and
   is skipped by the engine (``already_applied``), and the documents not yet written
   are recomputed from lookups that are still in the state the first attempt saw.
3. The checkpoint (``checkpoints`` collection, ``{_id: name, position}``) is written
   last and only moves forward (an upsert guarded by ``position < new``; its 11000 on
   a position already reached is ignored).

So ``has_position(p)`` (an audit record with position ``p`` exists; the API asks
``get("audit_trail", <event id>)`` instead, the one lookup FerretDB indexes) implies that
every other collection already holds the effects of the batch that contained ``p``:
the API uses it for read-your-writes. Events without an audit record (the ledger's
private idempotency records) never satisfy it; wait for a public event's position.

Three kinds of documents (declared by the folds, :mod:`projections.registry`):

- write-once (``APPEND_ONLY``: audit, history, timeline): inserted; a duplicate key
  means the document is stored already, and the stored copy is kept. No read, no
  replacement.
- ``owned`` (the caller's ``commit(..., owned=keys)``): documents the caller read
  this batch (or keeps cached) and alone writes, because it holds the only Kafka
  partition that feeds them. They are replaced by ``_id`` alone.
- everything else: insert first, then the guarded replacement above.

FerretDB v1 (SQLite) only uses an index for a filter that is exactly
``{_id: <string>}`` (with ``infra/local/ferretdb/build.sh``'s fix; stock v1.24 uses
none at all); any other filter, ``$in`` on ``_id`` included, scans the whole
collection and costs O(collection) per statement. So on FerretDB reads by id are
one ``find`` per id, and the guard is kept for documents nobody owns. On MongoDB
the guard is an indexed lookup and is always used, and ``$in`` reads in bulk.
Secondary indexes are only created on MongoDB: FerretDB v1 maintains them on every
insert but never uses them for a query.

Why not one unordered bulk of guarded upserts: FerretDB v1 stops an ``update``
batch at its first error even when unordered, answers without ``n``/``nModified``
(pymongo's ``bulk_write`` then fails with a KeyError), and scans the whole
collection for every statement whose filter is more than ``{_id: ...}``. Inserting
first keeps the append-only collections (audit, history, timeline: the big ones) on
the fast path; guarded replacements only touch entity views. Commands are sent raw
so both servers' answers are read the same way.

Generations (blue/green rebuilds)
---------------------------------
Every collection a store touches is named ``<prefix><collection>``: read models,
``checkpoints``, and whatever else is written through it (``parked``,
``deadletter_decisions``). The prefix of the generation that serves is held by one
pointer document, ``generations/{_id: "active", prefix, group_suffix, switched_at}``;
no pointer means prefix ``""`` (the unprefixed names of deployments older than
generations). ``group_suffix`` names the consumer group that projects into that
generation (``projector_group + group_suffix``), so its offsets start from nothing
when the generation does.

A store made with a fixed ``prefix`` (the projector, a rebuild) reads and writes that
generation only. A store made without one (the API, operator tools) *follows* the
pointer: it reads it on first use and again at most once per :data:`FOLLOW_SECONDS`,
so within about a second of a switch every reader answers from the new generation,
and never from one still being built. Switching is one single-document write of the
pointer (:meth:`MongoReadStore.switch_generation`): atomic on any server, and it
needs neither transactions nor ``renameCollection`` (FerretDB v1 guarantees neither).
One commit resolves its generation once, so all its writes land in one generation.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime
from functools import partial
from typing import Any

import bson
import pymongo
from pymongo.errors import WriteConcernError, WriteError

from infra.read_store.port import (
    AnyOf,
    CheckpointMovedError,
    Filters,
    Page,
    PagedIteration,
    Range,
    decode_cursor,
    encode_cursor,
)
from projections import audit_trail, entity_views
from projections.catalog import INDEXED_FIELDS
from projections.fold import Document
from projections.registry import ALL_FOLDS, APPEND_ONLY

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
_DUPLICATE_KEY = 11000
_CHECKPOINTS = "checkpoints"
# Written after the collections whose folds look them up, audit last of all.
_LOOKED_UP = frozenset(fold.collection for fold in entity_views.FOLDS)
_AUDIT = audit_trail.COLLECTION
_MAX_INSERTS = 1000  # documents per insert command
# Replacements per update command. FerretDB v1 (SQLite) keeps the cursor of every
# matched statement open until its command ends, and a database has 100 connections:
# a command with ~100 matches deadlocks that database. Keep well below, so a few
# writers and the readers can share the pool.
_MAX_REPLACES = 20
_MAX_BYTES = 8 * 1024 * 1024  # well below the 16 MiB limit of one command document
_READ_CHUNK = 500

GENERATIONS = "generations"
"""The collection of the pointer to the active generation (never prefixed)."""
_ACTIVE = "active"
FOLLOW_SECONDS = 1.0
"""How stale a following store's idea of the active generation may get."""
_PREFIX = re.compile(r"^[a-z][a-z0-9_]*_$")
_GROUP_SUFFIX = re.compile(r"^[A-Za-z0-9._-]*$")  # what Kafka allows in a group id
# Written through a store by the Kafka projector and the dead-letter tools; named
# here rather than imported so the store does not depend on infra.kafka.
_BOOKKEEPING = (_CHECKPOINTS, "parked", "deadletter_decisions")
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


def _collection_name(collection: str) -> str:
    if not _NAME.match(collection):
        raise ValueError(f"bad collection name {collection!r}")
    return collection


def _field(name: str) -> str:
    if name != "_id" and not _NAME.match(name.lstrip("_")):
        raise ValueError(f"bad field name {name!r}")
    return name


def _write_rank(collection: str) -> int:
    if collection == _AUDIT:
        return 2
    return 1 if collection in _LOOKED_UP else 0


def _guard(doc: Document) -> dict[str, Any]:
    """Matches the stored document only if the new one is not behind it on any stream."""
    query: dict[str, Any] = {"_id": doc["_id"]}
    for stream, version in (doc.get("_streams") or {}).items():
        if not stream or "." in stream or stream.startswith("$"):
            raise ValueError(f"stream id {stream!r} cannot be a MongoDB field name")
        query[f"_streams.{stream}"] = {"$not": {"$gt": version}}
    return query


def _duplicates(response: Mapping[str, Any]) -> list[int]:
    """Indexes of the writes refused as duplicate keys; raises on any other failure."""
    duplicates: list[int] = []
    for error in response.get("writeErrors", ()):
        if error.get("code") != _DUPLICATE_KEY:
            raise WriteError(error.get("errmsg", "write failed"), error.get("code"), error)
        duplicates.append(int(error["index"]))
    concern = response.get("writeConcernError")
    if concern:
        raise WriteConcernError(concern.get("errmsg", "write concern failed"),
                                concern.get("code"), concern)
    return duplicates


def _batches(items: list[dict[str, Any]], max_items: int) -> Iterator[list[dict[str, Any]]]:
    """Runs of items that fit in one command document."""
    batch: list[dict[str, Any]] = []
    size = 0
    for item in items:
        item_size = len(bson.encode(item))
        if batch and (len(batch) >= max_items or size + item_size > _MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += item_size
    if batch:
        yield batch


class MongoReadStore(PagedIteration):
    def __init__(
        self, uri: str, db_name: str, *, prefix: str | None = None,
        client: pymongo.MongoClient | None = None,
        server_selection_timeout_ms: int = 5000, writers: int = 2,
    ) -> None:
        """``prefix``: the generation to read and write (``""``: the unprefixed one);
        ``None`` follows the active generation's pointer."""
        self._fixed = check_prefix(prefix) if prefix else prefix
        self._followed: tuple[float, str] | None = None  # (resolved at, prefix)
        self._writers = writers
        self._pool: ThreadPoolExecutor | None = None
        self._owns_client = client is None
        self._client: pymongo.MongoClient = client or pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=server_selection_timeout_ms
        )
        self._db = self._client[db_name]
        self.is_ferretdb = "ferretdbVersion" in self._client.admin.command("buildInfo")
        if self.is_ferretdb:
            return
        prefix_now = self._prefix()
        for collection, fields in INDEXED_FIELDS.items():
            target = self._db[prefix_now + _collection_name(collection)]
            for name in fields:
                target.create_index([(_field(name), pymongo.ASCENDING),
                                     ("_id", pymongo.ASCENDING)])

    @property
    def client(self) -> pymongo.MongoClient:
        """The client, to share with stores of other generations (``client=``)."""
        return self._client

    # -- generations -----------------------------------------------------------

    def _prefix(self) -> str:
        """The generation this operation uses: fixed, or the pointer's (cached)."""
        if self._fixed is not None:
            return self._fixed
        followed = self._followed
        if followed is None or time.monotonic() - followed[0] >= FOLLOW_SECONDS:
            return self.active_generation()[0]
        return followed[1]

    def _target(self, collection: str, prefix: str | None = None) -> Any:
        return self._db[(self._prefix() if prefix is None else prefix)
                        + _collection_name(collection)]

    def current_prefix(self) -> str:
        """The prefix of the generation the next read or write uses."""
        return self._prefix()

    def active_generation(self) -> tuple[str, str]:
        """``(prefix, group_suffix)`` of the serving generation, read from the pointer
        now (a following store also moves to it)."""
        active = self._read_pointer()
        if self._fixed is None:
            self._followed = (time.monotonic(), active[0])
        return active

    def _read_pointer(self) -> tuple[str, str]:
        doc = self._db[GENERATIONS].find_one({"_id": _ACTIVE})
        if doc is None:
            return "", ""
        return check_prefix(str(doc["prefix"])), str(doc.get("group_suffix", ""))

    def switch_generation(self, prefix: str, group_suffix: str, *,
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
            if _duplicates(response):
                raise GenerationError("another switch happened meanwhile")
        else:
            query: dict[str, Any] = {"_id": _ACTIVE}
            if expected_prefix is not None:
                query["prefix"] = expected_prefix
            response = self._db.command("update", GENERATIONS, updates=[{
                "q": query, "u": pointer, "upsert": expected_prefix is None,
            }])
            _duplicates(response)
            if expected_prefix is not None and not response.get("n"):
                raise GenerationError(
                    f"generation {expected_prefix!r} is no longer the active one")
        self._followed = None

    def generation_collections(self, prefix: str) -> list[str]:
        """The collections of generation ``prefix`` (never the pointer's, never the
        active generation's)."""
        active, _ = self._read_pointer()
        names = self._db.list_collection_names()
        if prefix == "":  # the legacy names alone: a bare "" would match everything
            return sorted(name for name in names if name in STORE_COLLECTIONS)
        check_prefix(prefix)
        return sorted(
            name for name in names
            if name.startswith(prefix) and name != GENERATIONS
            and not (active and active != prefix and name.startswith(active))
        )

    def drop_generation(self, prefix: str) -> list[str]:
        """Drop every collection of generation ``prefix``; the names dropped.
        Refuses (:class:`GenerationError`) to drop the active generation."""
        if prefix == self._read_pointer()[0]:
            raise GenerationError(f"refusing to drop the active generation {prefix!r}")
        doomed = self.generation_collections(prefix)
        for name in doomed:
            self._db.drop_collection(name)
        return doomed

    # -- reads -----------------------------------------------------------------

    def get(self, collection: str, doc_id: str) -> Document | None:
        return self._target(collection).find_one({"_id": doc_id})

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        target = self._target(collection)
        found: dict[str, Document] = {}
        if self.is_ferretdb:  # one indexed read per id beats one scan per chunk
            for doc_id in doc_ids:
                doc = target.find_one({"_id": doc_id})
                if doc is not None:
                    found[doc_id] = doc
            return found
        for i in range(0, len(doc_ids), _READ_CHUNK):
            part = doc_ids[i : i + _READ_CHUNK]
            found.update((doc["_id"], doc) for doc in target.find({"_id": {"$in": part}}))
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
        found = self._target(_CHECKPOINTS, prefix).find_one({"_id": name})
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
        by_collection: dict[str, list[Document]] = defaultdict(list)
        by_id: dict[str, list[Document]] = defaultdict(list)
        trust = self.is_ferretdb
        for (collection, doc_id), doc in changes.items():
            name = _collection_name(collection)
            if trust and (collection, doc_id) in owned and collection not in APPEND_ONLY:
                by_id[name].append({**doc, "_id": doc_id})
            else:
                by_collection[name].append({**doc, "_id": doc_id})
        uncertain: set[tuple[str, str]] = set()  # filled by the writer threads
        ranks: dict[int, list[Callable[[], None]]] = defaultdict(list)
        for collection in by_collection.keys() | by_id.keys():
            docs = by_collection.get(collection, [])
            if collection in APPEND_ONLY:  # independent inserts: run side by side
                ranks[_write_rank(collection)] += [
                    partial(self._insert_once, prefix + collection, batch)
                    for batch in _batches(docs, _MAX_INSERTS)
                ]
            else:
                ranks[_write_rank(collection)].append(partial(
                    self._write, prefix + collection, docs, by_id.get(collection, []),
                    lambda doc_id, c=collection: uncertain.add((c, doc_id)),
                ))
        for rank in sorted(ranks):
            self._run_all(ranks[rank])
        name, position = checkpoint
        response = self._db.command("update", prefix + _CHECKPOINTS, updates=[{
            "q": {"_id": name, "position": {"$lt": position}},
            "u": {"$set": {"position": position}},
            "upsert": True,
        }])
        _duplicates(response)  # a duplicate: the checkpoint is already there or further
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

    def _insert_once(self, collection: str, batch: list[Document]) -> None:
        """Insert write-once documents; one already stored is kept as it is."""
        _duplicates(self._db.command("insert", collection, documents=batch, ordered=False))

    def _write(self, collection: str, docs: list[Document], owned: list[Document],
               met_stored: Callable[[str], None]) -> None:
        """Insert the new documents, replace the stored ones the guard lets through
        (each named to ``met_stored``: the guard may keep the stored copy), and
        replace the owned ones by id."""
        stored: list[Document] = []
        for batch in _batches(docs, _MAX_INSERTS):
            response = self._db.command("insert", collection, documents=batch, ordered=False)
            stored += [batch[i] for i in _duplicates(response)]
        for doc in stored:
            met_stored(doc["_id"])
        self._replace_by_id(collection, owned)
        replacements = [{"q": _guard(doc), "u": doc} for doc in stored]
        for batch in _batches(replacements, _MAX_REPLACES):
            # upsert is off: a guard that misses means "this or a newer state is stored"
            _duplicates(self._db.command("update", collection, updates=batch, ordered=False))

    def _replace_by_id(self, collection: str, docs: list[Document]) -> None:
        """Upsert owned documents by id (the only filter FerretDB v1 can index)."""
        updates = [{"q": {"_id": doc["_id"]}, "u": doc, "upsert": True} for doc in docs]
        for batch in _batches(updates, _MAX_REPLACES):
            _duplicates(self._db.command("update", collection, updates=batch, ordered=True))

    def ping(self) -> None:
        self._client.admin.command("ping")

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        if self._owns_client:
            self._client.close()
