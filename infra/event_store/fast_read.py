"""Stored events to public envelopes straight from their JSON, without domain objects.

The reference path (:func:`infra.event_store.log.read_envelopes`) asks eventsourcing's
mapper for a domain event, then wraps it (:func:`domain.envelope.envelope_of`) and
attaches its chain link with a second envelope: most of a replay's reading time. This
path decodes the stored JSON with orjson and builds the envelope once. It handles
events stored without a cipher or compressor, at their class's current version (no
upcasting due), with the standard transcodings; every other event raises
:class:`SlowEventError`, and its reader takes the reference path for it.

Both the relay (:mod:`infra.kafka.relay.fast_path`) and :func:`fast_envelopes` check
one event of every page against the reference path and leave this path for good on
any disagreement.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

import orjson
from eventsourcing.utils import resolve_topic

from domain.aggregate import LedgerAggregate
from domain.envelope import BASE_FIELDS, EventEnvelope, event_id, iso_time, times_of, wire_type
from domain.ledger import Ledger
from infra.event_store import LedgerRecorder
from infra.event_store.sqlite import HASHES_TABLE, LedgerSQLiteRecorder

log = logging.getLogger(__name__)

Link = tuple[Any, ...]
"""A chain row ``(position, event id, prev hash, hash)``."""


class SlowEventError(Exception):
    """An event this path does not handle; the reference path reads it."""


def utc_time(text: str) -> str:
    """``iso_time(datetime.fromisoformat(text))`` for the UTC times eventsourcing
    stores (``isoformat()``, no microseconds when there are none), without a
    datetime; any other time the long way."""
    if text.endswith("+00:00") and text[10:11] == "T":
        if len(text) == 32 and text[19:20] == ".":
            return text[:26] + "Z"
        if len(text) == 25:
            return text[:19] + ".000000Z"
    return iso_time(datetime.fromisoformat(text))


_HEX_ID = re.compile(r"[0-9a-f]{32}")


def uuid_text(hex_id: str) -> str:
    """``str(UUID(hex_id))`` for the 32 lower-case hex digits stored, without a UUID."""
    if _HEX_ID.fullmatch(hex_id):
        h = hex_id
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(UUID(hex_id))


class StoredRow(NamedTuple):
    """A stored event as :func:`fast_envelope` reads it (a ``Notification``'s fields),
    its originator id already as text."""

    id: int
    originator_id: str
    originator_version: int
    topic: str
    state: bytes


def plain_state(value: Any) -> Any:
    """JSON as stored by eventsourcing's transcoder, to what ``envelope.plain`` makes."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is dict:
        if len(value) == 2 and "_type_" in value and "_data_" in value:
            name, data = value["_type_"], value["_data_"]
            if name == "uuid_hex":
                return str(UUID(data))
            if name == "datetime_iso":
                return utc_time(data)
            if name == "decimal_str":
                return str(Decimal(data))
            raise SlowEventError(f"transcoding {name}")
        return {k: plain_state(v) for k, v in value.items()}
    if kind is list:
        return [plain_state(v) for v in value]
    raise SlowEventError(f"value of type {kind.__name__}")


@dataclass(frozen=True)
class EventClass:
    public: bool
    context: str = ""
    name: str = ""
    schema_version: int = 1
    type: str = ""


class EventClasses:
    """What each stored topic is, resolved once."""

    def __init__(self) -> None:
        self._classes: dict[str, EventClass] = {}

    def __call__(self, topic: str) -> EventClass:
        known = self._classes.get(topic)
        if known is None:
            cls = resolve_topic(topic)
            if isinstance(cls, type) and issubclass(cls, LedgerAggregate.Event):
                context = getattr(cls, "CONTEXT", "")
                version = getattr(cls, "class_version", 1)
                known = EventClass(True, context, cls.__name__, version,
                                   wire_type(context, cls.__name__, version))
            else:
                known = EventClass(False)
            self._classes[topic] = known
        return known


def usable(ledger: Ledger) -> bool:
    """Whether the ledger stores events as this path reads them (no cipher, no
    compressor)."""
    mapper = ledger.mapper
    return getattr(mapper, "cipher", None) is None and getattr(mapper, "compressor", None) is None


def fast_envelope(n: Any, cls: EventClass, link: Link | None) -> EventEnvelope:
    """The envelope of notification ``n`` (a public event of class ``cls``), with its
    chain link; :class:`SlowEventError` for what only the reference path reads."""
    try:
        state = orjson.loads(n.state)
    except orjson.JSONDecodeError as e:  # e.g. NaN or huge ints: json takes them
        raise SlowEventError(str(e)) from None
    if state.pop("class_version", 1) != cls.schema_version:
        raise SlowEventError("needs upcasting")
    meta = state.get("meta") or {}
    if type(meta) is not dict or any(type(v) is not str for v in meta.values()):
        raise SlowEventError("unusual meta")
    base = BASE_FIELDS
    data = {k: plain_state(v) for k, v in state.items() if k not in base}
    subject = str(n.originator_id)
    occurred_at, recorded_at = times_of(meta, plain_state(state["timestamp"]))
    return EventEnvelope(
        id=link[1] if link else event_id(subject, n.originator_version),
        type=cls.type, context=cls.context, name=cls.name, subject=subject,
        stream_version=n.originator_version, position=n.id,
        occurred_at=occurred_at, recorded_at=recorded_at, actor=meta.get("actor", ""),
        correlation_id=meta.get("correlation_id", ""),
        causation_id=meta.get("causation_id", ""),
        import_run_id=meta.get("import_run_id", ""),
        schema_version=cls.schema_version, data=data,
        prev_hash=link[2] if link else None, hash=link[3] if link else None,
    )


def links(ledger: Ledger, first: int, last: int) -> dict[int, Link]:
    """The chain rows of positions ``first..last`` by position (none: no chain)."""
    recorder = ledger.recorder
    if not isinstance(recorder, LedgerRecorder):
        return {}
    return {row[0]: row for row in recorder.hashes(first, last - first + 1)}


def _page(ledger: Ledger, after: int, page: int) -> list[tuple[Any, Link | None]]:
    """Up to ``page`` stored records after ``after``, each with its chain link. From
    the SQLite store in one query (records and links joined, ids as text), else
    through the recorder."""
    recorder = ledger.recorder
    if isinstance(recorder, LedgerSQLiteRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(  # the recorder's own table names, no input
                "SELECT e.rowid, e.originator_id, e.originator_version, e.topic, e.state, "  # noqa: S608
                "h.position, h.event_id, h.prev_hash, h.hash "
                f"FROM {recorder.events_table_name} AS e LEFT JOIN {HASHES_TABLE} AS h "
                "ON h.position = e.rowid WHERE e.rowid > ? ORDER BY e.rowid LIMIT ?",
                (after, page))
            rows = c.fetchall()
        return [(StoredRow(r[0], r[1], r[2], r[3], r[4]),
                 (r[5], r[6], r[7], r[8]) if r[5] is not None else None) for r in rows]
    notifications = recorder.select_notifications(after + 1, page)
    if not notifications:
        return []
    chain = links(ledger, notifications[0].id, notifications[-1].id)
    return [(n, chain.get(n.id)) for n in notifications]


def fast_envelopes(ledger: Ledger, after: int = 0, page: int = 5000,
                   until: int | None = None) -> Iterator[EventEnvelope]:
    """Every public event after ``after`` (up to ``until``), in position order, as
    :func:`infra.event_store.log.iter_envelopes` yields them, read a page at a time."""
    from infra.event_store.log import read_envelopes

    classes = EventClasses()
    fast = usable(ledger)
    while True:
        stored = _page(ledger, after, page)
        if not stored:
            return
        checked = False
        for n, link in stored:
            if until is not None and n.id > until:
                return
            cls = classes(n.topic)
            if not cls.public:
                continue
            if type(n) is StoredRow:
                n = n._replace(originator_id=uuid_text(n.originator_id))
            envelope = None
            if fast:
                try:
                    envelope = fast_envelope(n, cls, link)
                except Exception:  # SlowEventError, or anything unforeseen: the reference
                    envelope = None
            if envelope is None or not checked:
                reference = read_envelopes(ledger, n.id - 1, 1)[0][0]
                if envelope is not None and envelope != reference:
                    log.warning("the fast read of position %s differs from the reference "
                                "path; reading the rest the reference way", n.id)
                    fast = False
                envelope, checked = reference, True
            yield envelope
        after = stored[-1][0].id
