"""Disaster recovery: rebuild a lost event store from the events' CloudEvents (read
from the Kafka topics, merged by position), then prove it with the hash chain.

Each event is turned back into its domain event object and stored through the
ledger's own mapper, at its original position, with its original chain link, so
the restored payloads and hashes are byte for byte those of the lost store.
Internal records that never left the store (idempotency keys) cannot be restored:
their positions stay empty, and retries of those old commands are not recognised.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic

import domain.catalog  # noqa: F401 - registers every event class
from domain.aggregate import EVENT_CLASSES, LedgerAggregate
from domain.ledger import Ledger
from infra.event_store.sqlite import HASHES_TABLE
from infra.personal.mapper import as_is_writer


class RestoreError(ValueError):
    """The events cannot be restored (unknown type, duplicate position, ...)."""


def domain_event_of(ce: dict[str, Any]) -> Any:
    _, context, name, _version = ce["type"].split(".", 3)
    event_class = EVENT_CLASSES.get(f"{context}.{name}")
    if event_class is None:
        raise RestoreError(f"unknown event type {ce['type']} at position {ce['position']}")
    meta = {"actor": ce["actor"], "correlation_id": ce.get("correlationid", ""),
            "causation_id": ce.get("causationid", "")}
    recorded = ce.get("recordedtime")
    if recorded and recorded != ce["time"]:  # as CommandMeta.as_event_meta writes it
        meta["occurred_at"] = ce["time"]
    if ce.get("importrun"):
        meta["import_run_id"] = ce["importrun"]
    kwargs: dict[str, Any] = {
        "originator_id": UUID(ce["subject"]),
        "originator_version": int(ce["streamversion"]),
        "timestamp": datetime.fromisoformat(recorded or ce["time"]),
        "meta": meta,
        **ce.get("data", {}),
    }
    if issubclass(event_class, LedgerAggregate.Created):
        aggregate = event_class.__qualname__.rsplit(".", 1)[0]
        kwargs["originator_topic"] = get_topic(
            resolve_topic(f"{event_class.__module__}:{aggregate}"))
    return event_class(**kwargs)


def restore(
    cloudevents: Iterable[dict[str, Any]], ledger: Ledger, store_path: str,
    *, progress: Callable[[int], None] | None = None,
) -> int:
    """Write the events into the (new, empty) store at ``store_path``; returns the count."""
    if ledger.head_position():
        raise RestoreError("the target event store is not empty")
    ordered = sorted(cloudevents, key=lambda ce: int(ce["position"]))
    positions = [int(ce["position"]) for ce in ordered]
    if len(set(positions)) != len(positions):
        raise RestoreError("two events claim the same position")
    rows = []
    write = as_is_writer(ledger.mapper)  # the bytes as published: nothing sealed anew
    for ce in ordered:
        stored = write(domain_event_of(ce))
        rows.append((int(ce["position"]), stored, ce))
    with sqlite3.connect(store_path) as db:
        for n, (position, stored, ce) in enumerate(rows, 1):
            db.execute(
                "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, "
                "state) VALUES (?, ?, ?, ?, ?)",
                (position, UUID(str(stored.originator_id)).hex, stored.originator_version,
                 stored.topic, stored.state),
            )
            db.execute(f"INSERT INTO {HASHES_TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608 - constant
                       (position, ce["id"], ce.get("prevhash") or "", ce.get("hash") or ""))
            if progress is not None and n % 1000 == 0:
                progress(position)
    return len(rows)
