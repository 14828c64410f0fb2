"""Published schemas of the event contract: a JSON Schema per event type (the whole
CloudEvent, with the event's own ``data``), and an AsyncAPI 3 document for the topics.

Derived from the event classes themselves, so the published contract cannot drift
from what the domain records.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import TypeAdapter

import domain.catalog  # noqa: F401 - registers every event class
from domain.aggregate import EVENT_CLASSES
from domain.envelope import BASE_FIELDS, wire_type
from infra.kafka.topics import Topics

_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def data_schema(event_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(event_class)
    properties: dict[str, Any] = {}
    for name, hint in hints.items():
        skip = name in BASE_FIELDS or name.startswith("_")
        if skip or typing.get_origin(hint) is typing.ClassVar:
            continue
        properties[name] = TypeAdapter(hint).json_schema()
    # A field with a default was added later: events stored before it lack it.
    optional = {name for name in properties if hasattr(event_class, name)}
    return {"type": "object", "properties": properties,
            "required": sorted(properties.keys() - optional), "additionalProperties": False}


def event_schema(context: str, name: str, event_class: type) -> dict[str, Any]:
    version = getattr(event_class, "class_version", 1)
    type_name = wire_type(context, name, version)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://opsledger.dev/schemas/{type_name}.json",
        "title": type_name,
        "description": (event_class.__doc__ or "").strip() or f"{name} in {context}",
        "type": "object",
        "required": ["specversion", "id", "source", "type", "subject", "time", "position",
                     "streamversion", "actor", "correlationid", "causationid", "data"],
        "properties": {
            "specversion": {"const": "1.0"},
            "id": {"type": "string", "format": "uuid"},
            "source": {"type": "string", "minLength": 1},
            "type": {"const": type_name},
            "subject": {"type": "string", "format": "uuid"},
            "time": {"type": "string", "format": "date-time",
                     "description": "when it happened (business time)"},
            "recordedtime": {
                "type": "string", "format": "date-time",
                "description": "when OpsLedger recorded it, when that is not `time` "
                               "(absent: it was recorded when it happened)"},
            "importrun": {
                "type": "string", "format": "uuid",
                "description": "the import run (declared backfill) it was recorded in; "
                               "absent: none"},
            "datacontenttype": {"const": "application/json"},
            "position": {"type": "integer", "minimum": 1},
            "streamversion": {"type": "integer", "minimum": 1},
            "actor": {"type": "string", "pattern": "^(user|service):.+"},
            "correlationid": {"type": "string"},
            "causationid": {"type": "string"},
            "prevhash": _HASH,
            "hash": _HASH,
            "data": data_schema(event_class),
        },
        "additionalProperties": False,
    }


def all_event_schemas() -> dict[str, dict[str, Any]]:
    schemas = {}
    for key, cls in sorted(EVENT_CLASSES.items()):
        context, name = key.split(".", 1)
        schema = event_schema(context, name, cls)
        schemas[schema["title"]] = schema
    return schemas


def asyncapi_document(topics: Topics, schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for type_name in schemas:
        _, context, name, _version = type_name.split(".")
        key = type_name.replace(".", "_")
        messages[key] = {
            "name": type_name, "title": name, "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"schemas/{type_name}.json"},
        }
        channel = channels.setdefault(context, {
            "address": topics.events(context),
            "description": f"Every event of the {context} context, keyed by aggregate id "
                           "(per-aggregate order); global order by the position attribute. "
                           "Kept forever.",
            "messages": {},
        })
        channel["messages"][key] = {"$ref": f"#/components/messages/{key}"}
    for context in channels:
        operations[f"receive_{context}"] = {
            "action": "receive", "channel": {"$ref": f"#/channels/{context}"},
            "summary": f"Subscribe to {context} events (isolation.level=read_committed).",
        }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "OpsLedger events", "version": "1.0.0",
                 "description": "CloudEvents 1.0 (structured JSON, plus ce_ headers) of "
                                "every event OpsLedger records. `time` is when the event "
                                "happened; the extension `recordedtime` is when OpsLedger "
                                "recorded it (absent: recorded when it happened)."},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels, "operations": operations,
        "components": {"messages": messages},
    }
