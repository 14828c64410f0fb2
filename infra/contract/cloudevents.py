"""CloudEvents 1.0 (structured JSON) form of an event, for the events feed and Kafka."""

from __future__ import annotations

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
        "time": e.time,
        "datacontenttype": "application/json",
        "position": e.position,
        "streamversion": e.stream_version,
        "actor": e.actor,
        "correlationid": e.correlation_id,
        "causationid": e.causation_id,
        "data": e.data,
    }
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
        position=int(ce["position"]), time=ce["time"], actor=ce["actor"],
        correlation_id=ce.get("correlationid", ""), causation_id=ce.get("causationid", ""),
        schema_version=int(version.removeprefix("v")), data=ce.get("data") or {},
        prev_hash=ce.get("prevhash"), hash=ce.get("hash"),
    )
