"""The event contract on Kafka: one record per event, CloudEvents 1.0.

- value: structured-mode CloudEvents JSON (``application/cloudevents+json``);
- headers: the same attributes as ``ce_*`` headers, so binary-mode consumers work;
- key: the aggregate id, so one aggregate's events keep their order in a partition.
"""

from __future__ import annotations

from typing import Any

import orjson

from domain.envelope import EventEnvelope
from infra.contract.cloudevents import from_cloudevent, to_cloudevent

Headers = list[tuple[str, bytes]]
CONTENT_TYPE = b"application/cloudevents+json; charset=UTF-8"
HEADER_ATTRIBUTES = (
    "specversion", "id", "source", "type", "subject", "time", "recordedtime", "position",
    "streamversion", "actor", "correlationid", "causationid", "importrun", "prevhash",
    "hash",
)


class UndecodableRecordError(ValueError):
    """A record that is not an OpsLedger CloudEvent."""


def encode(
    envelope: EventEnvelope, hashes: tuple[str, str] | None = None
) -> tuple[bytes, bytes, Headers]:
    ce = to_cloudevent(envelope, hashes)
    headers: Headers = [("content-type", CONTENT_TYPE)]
    headers += [(f"ce_{k}", str(ce[k]).encode()) for k in HEADER_ATTRIBUTES if k in ce]
    return envelope.subject.encode(), orjson.dumps(ce), headers


def decode_cloudevent(value: bytes | None) -> dict[str, Any]:
    try:
        ce = orjson.loads(value or b"")
    except orjson.JSONDecodeError as e:
        raise UndecodableRecordError(f"value is not JSON: {e}") from None
    if not isinstance(ce, dict) or ce.get("specversion") != "1.0":
        raise UndecodableRecordError("value is not a CloudEvents 1.0 structured event")
    return ce


def decode(value: bytes | None) -> EventEnvelope:
    ce = decode_cloudevent(value)
    try:
        return from_cloudevent(ce)
    except (KeyError, ValueError, TypeError) as e:
        raise UndecodableRecordError(f"missing or malformed attribute: {e}") from None
