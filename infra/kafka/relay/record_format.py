"""Kafka's v2 record format, written by hand: varints, headers, one record.

The fast path (:mod:`.fast_path`) encodes stored events straight into these bytes;
:mod:`.producer_internals` appends them to kafka-python's record batches and checks,
at start-up, that they are what kafka-python's own builder writes. Nothing here
touches kafka-python.
"""

from __future__ import annotations

from typing import Any

from infra.kafka import codec


def zigzag_varint(value: int) -> bytes:
    """Kafka's (protobuf zigzag) varint, as ``kafka.record.util.encode_varint``."""
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


_VARINTS = tuple(zigzag_varint(i) for i in range(1 << 14))


def varint(value: int) -> bytes:
    return _VARINTS[value] if 0 <= value < 16384 else zigzag_varint(value)


_HEADER_PREFIXES: dict[str, bytes] = {}


def header_prefix(name: str) -> bytes:
    """A header's name as the record carries it (length, then UTF-8)."""
    prefix = _HEADER_PREFIXES.get(name)
    if prefix is None:
        raw = name.encode()
        prefix = _HEADER_PREFIXES[name] = varint(len(raw)) + raw
    return prefix


def record_tail(key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> bytes:
    """A v2 record after its attributes, timestamp delta and offset delta."""
    parts = [varint(len(key)), key, varint(len(value)), value, varint(len(headers))]
    for name, raw in headers:
        parts += (header_prefix(name), varint(len(raw)), raw)
    return b"".join(parts)


_CONTENT_TYPE_HEADER = (
    header_prefix("content-type") + varint(len(codec.CONTENT_TYPE)) + codec.CONTENT_TYPE
)
_CE_HEADERS = tuple((k, header_prefix(f"ce_{k}")) for k in codec.HEADER_ATTRIBUTES)


def cloudevent_tail(key: bytes, value: bytes, ce: dict[str, Any]) -> bytes:
    """``record_tail(*codec.encode(...))``, from the CloudEvent, in one pass."""
    parts = [_CONTENT_TYPE_HEADER]
    for attribute, prefix in _CE_HEADERS:
        if attribute in ce:
            raw = str(ce[attribute]).encode()
            parts += (prefix, varint(len(raw)), raw)
    count = varint(1 + (len(parts) - 1) // 3)
    return b"".join((varint(len(key)), key, varint(len(value)), value, count, *parts))


def record(offset_delta: int, timestamp_delta: int, tail: bytes) -> bytes:
    head = b"\x00" + varint(timestamp_delta) + varint(offset_delta)
    return varint(len(head) + len(tail)) + head + tail
