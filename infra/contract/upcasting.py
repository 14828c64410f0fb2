"""Upcasting on the wire: old versions of an event are converted, never rewritten.

An event on Kafka carries its schema version in its type
(``opsledger.<context>.<EventName>.v<N>``). The folds understand one shape per event:
the one the event class of this build declares (``class_version``, 1 by default).
An *upcaster* is registered for one wire type and turns that version's ``data`` into
the next version's; :func:`upcast` chains them until the event reaches the version
the class knows, so a v1 record on a topic kept forever still folds after the class
moved to v3.

- a known type at its class's version passes through unchanged (the common case;
  no copy is made);
- a context/name not in :data:`domain.aggregate.EVENT_CLASSES`, or a version newer
  than the class knows (a producer ahead of this consumer), raises
  :class:`UnknownEventTypeError`;
- a missing link in the chain, or an upcaster raising or returning something other
  than a mapping, raises :class:`UpcastError`.

Both errors are *poison* to a projector: it dead-letters the record and parks its
aggregate rather than folding something it does not understand.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import domain.catalog  # noqa: F401  (registers every event class in EVENT_CLASSES)
from domain.aggregate import EVENT_CLASSES
from domain.envelope import EventEnvelope, wire_type

Upcaster = Callable[[dict[str, Any]], Mapping[str, Any]]
"""``data`` of version N (a private copy the upcaster may change) -> ``data`` of N+1."""

_WIRE_TYPE = re.compile(r"^opsledger\.([a-z_]+)\.([A-Za-z0-9_]+)\.v([1-9][0-9]*)$")

_upcasters: dict[str, Upcaster] = {}
_lock = threading.Lock()


class UnknownEventTypeError(LookupError):
    """An event this build does not know: an unknown name, or a newer schema version."""


class UpcastError(ValueError):
    """An older event that could not be brought up to the version this build knows."""


def _parse(wire: str) -> tuple[str, str, int]:
    match = _WIRE_TYPE.match(wire)
    if match is None:
        raise ValueError(f"not an OpsLedger wire type: {wire!r}")
    return match.group(1), match.group(2), int(match.group(3))


def known_version(context: str, name: str) -> int:
    """The schema version this build folds for ``<context>.<name>``."""
    cls = EVENT_CLASSES.get(f"{context}.{name}")
    if cls is None:
        raise UnknownEventTypeError(f"unknown event type {context}.{name}")
    return int(getattr(cls, "class_version", 1))


def register(wire: str, upcaster: Upcaster) -> None:
    """Register the upcaster from ``wire`` (e.g. ``opsledger.teams.TeamFormed.v1``) to v+1.

    The event must be known to this build and ``v`` older than its class's version.
    """
    context, name, version = _parse(wire)
    known = known_version(context, name)
    if version >= known:
        raise ValueError(
            f"{wire} is not older than {context}.{name} v{known}: nothing to upcast to"
        )
    with _lock:
        if wire in _upcasters:
            raise ValueError(f"an upcaster for {wire} is already registered")
        _upcasters[wire] = upcaster


def unregister(wire: str) -> None:
    with _lock:
        _upcasters.pop(wire, None)


@contextmanager
def registered(wire: str, upcaster: Upcaster) -> Iterator[None]:
    """Register an upcaster for the duration of a ``with`` block (tests, one-off replays)."""
    register(wire, upcaster)
    try:
        yield
    finally:
        unregister(wire)


def registered_types() -> list[str]:
    with _lock:
        return sorted(_upcasters)


def upcast(envelope: EventEnvelope) -> EventEnvelope:
    """``envelope`` at the schema version this build's folds understand."""
    known = known_version(envelope.context, envelope.name)
    version = envelope.schema_version
    if version == known:
        return envelope
    if version > known:
        raise UnknownEventTypeError(
            f"{envelope.type} is newer than this build knows "
            f"({envelope.context}.{envelope.name} v{known})"
        )
    if version < 1:
        raise UpcastError(f"{envelope.type}: schema versions start at 1")
    data: dict[str, Any] = copy.deepcopy(envelope.data)
    while version < known:
        source = wire_type(envelope.context, envelope.name, version)
        with _lock:
            upcaster = _upcasters.get(source)
        if upcaster is None:
            raise UpcastError(
                f"no upcaster from {source} (this build folds v{known})"
            )
        try:
            result = upcaster(data)
        except Exception as e:
            raise UpcastError(f"upcasting {source} failed: {type(e).__name__}: {e}") from e
        if not isinstance(result, Mapping):
            raise UpcastError(
                f"the upcaster from {source} returned {type(result).__name__}, not a mapping"
            )
        data = dict(result)
        version += 1
    return replace(
        envelope, type=wire_type(envelope.context, envelope.name, version),
        schema_version=version, data=data,
    )
