"""Checks of the published event contract that many tests share: each event of the feed
against its type's JSON Schema, and a context's topic and messages in the AsyncAPI
document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jsonschema

from infra.contract.schemas import all_event_schemas, asyncapi_document
from infra.kafka.topics import Topics


def validated_types(events: Iterable[dict[str, Any]]) -> set[str]:
    """Validate every CloudEvent against its type's schema (raises on the first that
    fails); answer the types seen."""
    schemas = all_event_schemas()
    seen: set[str] = set()
    for event in events:
        jsonschema.validate(event, schemas[event["type"]],
                            format_checker=jsonschema.FormatChecker())
        seen.add(event["type"])
    return seen


def assert_context_published(context: str, event_types: set[str]) -> None:
    """The context's topic is an AsyncAPI channel, its event types have schemas, and
    every schema is a message."""
    schemas = all_event_schemas()
    document = asyncapi_document(Topics("opsledger"), schemas)

    assert f"opsledger.{context}.events" in {
        c["address"] for c in document["channels"].values()}
    assert set(schemas) >= event_types
    assert len(document["components"]["messages"]) == len(schemas)
