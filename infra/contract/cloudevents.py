"""CloudEvents 1.0 (structured JSON) form of an event, for the events feed and Kafka.

``time`` is when the event happened (business time: what the attribute means). The
extension ``recordedtime`` is when the ledger recorded it, present only when that is
another moment: an event without it was recorded when it happened, as every event
published before business time existed. So every event stored or published before
then keeps the bytes it had, and the hash chain, which covers the CloudEvent as
published (:mod:`infra.event_store.hash_chain`), covers both times of every event.
The extension ``importrun`` names the import run (a declared backfill) an event was
recorded in, present only then, and so covered by the chain too.
"""

from __future__ import annotations

import copy
from typing import Any

from domain.envelope import EventEnvelope

SOURCE = "urn:opsledger"


def to_cloudevent(e: EventEnvelope, hashes: tuple[str, str] | None = None) -> dict[str, Any]:
    ce: dict[str, Any] = {
        "specversion": "1.0",
        "id": e.id,
        "source": f"{SOURCE}:{e.context}",
        "type": e.type,
        "subject": e.subject,
        "time": e.occurred_at,
        "datacontenttype": "application/json",
        "position": e.position,
        "streamversion": e.stream_version,
        "actor": e.actor,
        "correlationid": e.correlation_id,
        "causationid": e.causation_id,
        "data": e.data,
    }
    if e.recorded_at != e.occurred_at:
        ce["recordedtime"] = e.recorded_at
    if e.import_run_id:  # only in an import run: every other event keeps its bytes
        ce["importrun"] = e.import_run_id
    if hashes is None and e.hash is not None:
        hashes = (e.prev_hash or "", e.hash)
    if hashes is not None:
        ce["prevhash"], ce["hash"] = hashes
    return ce


def from_cloudevent(ce: dict[str, Any]) -> EventEnvelope:
    """Inverse of :func:`to_cloudevent`; raises ``KeyError``/``ValueError`` if malformed."""
    _, context, name, version = ce["type"].split(".", 3)
    return EventEnvelope(
        id=ce["id"], type=ce["type"], context=context, name=name,
        subject=ce["subject"], stream_version=int(ce["streamversion"]),
        position=int(ce["position"]), occurred_at=ce["time"],
        recorded_at=ce.get("recordedtime") or ce["time"], actor=ce["actor"],
        correlation_id=ce.get("correlationid", ""), causation_id=ce.get("causationid", ""),
        schema_version=int(version.removeprefix("v")), data=ce.get("data") or {},
        prev_hash=ce.get("prevhash"), hash=ce.get("hash"),
        import_run_id=ce.get("importrun") or "",
    )


def cloudevent_of_audit_record(record: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent an audit trail record (e.g. a line of an export) was made from,
    with its hash chain fields: what an auditor re-hashes to check the record.

    A record folded before ``recorded_at`` existed has the recording time as its
    ``time``, as its CloudEvent had. Personal data shown opened is put back as stored
    (``sealed``, :func:`as_stored`)."""
    _, _, _, version = str(record["type"]).split(".", 3)
    occurred_at = record["time"]
    data = as_stored(record.get("data") or {}, record.get("sealed") or {})
    return to_cloudevent(EventEnvelope(
        id=record["id"], type=record["type"], context=record["context"], name=record["name"],
        subject=record["entity_id"], stream_version=int(record["entity_version"]),
        position=int(record["position"]), occurred_at=occurred_at,
        recorded_at=record.get("recorded_at") or occurred_at, actor=record["actor"],
        correlation_id=record.get("correlation_id", ""),
        causation_id=record.get("causation_id", ""),
        schema_version=int(version.removeprefix("v")), data=data,
        prev_hash=record.get("prev_hash"), hash=record.get("hash"),
        import_run_id=record.get("import_run_id") or "",
    ))


def as_stored(data: dict[str, Any], sealed: dict[str, str]) -> dict[str, Any]:
    """An exported record's ``data`` as it was stored and chained: each personal value
    shown opened (or ``"[erased]"``) put back as the ciphertext kept in ``sealed``."""
    if not sealed:
        return data
    stored: dict[str, Any] = copy.deepcopy(data)
    for path, value in sealed.items():
        *parents, last = path.split(".")
        target = stored
        for part in parents:
            target = target[part]
        target[last] = value
    return stored
