"""Published schemas of the event contract: a JSON Schema per event type (the whole
CloudEvent, with the event's own ``data``), and an AsyncAPI 3 document for the topics.

Derived from the event classes themselves, so the published contract cannot drift
from what the domain records.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import TypeAdapter

import domain.catalog  # noqa: F401 - registers every event class
from domain.aggregate import EVENT_CLASSES
from domain.envelope import BASE_FIELDS, wire_type
from domain.personal import Personal, personal_fields
from infra.kafka.topics import Topics

_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _typed_dict_schema(hint: Any) -> dict[str, Any]:
    """A ``typing.TypedDict`` the domain uses (pydantic wants typing_extensions' on
    Python 3.11, and the domain imports the standard library only)."""
    fields = {name: value_schema(h) for name, h in typing.get_type_hints(hint).items()}
    return {"type": "object", "properties": fields, "required": sorted(fields),
            "additionalProperties": False}


def value_schema(hint: Any) -> dict[str, Any]:
    if typing.is_typeddict(hint):
        return _typed_dict_schema(hint)
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and any(
            typing.is_typeddict(a) for a in args):
        return {"anyOf": [value_schema(a) for a in args]}
    return TypeAdapter(hint).json_schema()


def data_schema(event_class: type) -> dict[str, Any]:
    hints = typing.get_type_hints(event_class)
    properties: dict[str, Any] = {}
    for name, hint in hints.items():
        skip = name in BASE_FIELDS or name.startswith("_")
        if skip or typing.get_origin(hint) is typing.ClassVar:
            continue
        properties[name] = value_schema(hint)
    mark_personal(properties, personal_fields(event_class))
    # A field with a default was added later: events stored before it lack it.
    optional = {name for name in properties if hasattr(event_class, name)}
    return {"type": "object", "properties": properties,
            "required": sorted(properties.keys() - optional), "additionalProperties": False}


def mark_personal(properties: dict[str, Any], personal: Personal) -> None:
    """Mark each personal field with ``x-personal-data`` (whose: the subject's kind) and
    ``x-personal-data-subject`` (the field that names the subject). Such a string is
    ciphertext on the wire (``pii:v1:<kind>:<id>:<base64>``), or ``"[erased]"``."""
    for path, subject in personal.items():
        head, *rest = path.split(".")
        schema = properties[head]
        for part in rest:
            schema = next(o for o in schema.get("anyOf", [schema]) if "properties" in o)
            schema = schema["properties"][part]
        schema["x-personal-data"] = subject.kind
        schema["x-personal-data-subject"] = subject.field
        schema.setdefault("description", PERSONAL_NOTE)


def personal_paths(schema: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted path to subject kind, for every field of ``schema`` marked personal."""
    found: dict[str, str] = {}
    for name, field in schema.get("properties", {}).items():
        path = f"{prefix}{name}"
        if "x-personal-data" in field:
            found[path] = field["x-personal-data"]
        for option in [field, *field.get("anyOf", [])]:
            if "properties" in option:
                found.update(personal_paths(option, f"{path}."))
    return found


PERSONAL_NOTE = (
    "personal data: stored and published as `pii:v1:<kind>:<id>:<base64>` ciphertext under "
    "its subject's key (or `[erased]` once the subject is erased); the API shows plaintext, "
    "and opens values for subscribers: `POST /v1/personal-data/reveal`")


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
        personal = personal_paths(schemas[type_name]["properties"]["data"])
        if personal:
            messages[key]["x-personal-data"] = personal
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
                                "recorded it (absent: recorded when it happened). Fields "
                                "marked `x-personal-data` (listed per message: path to "
                                "the subject's kind) carry ciphertext "
                                "`pii:v1:<kind>:<id>:<base64>` under a key per data "
                                "subject, or `[erased]`; a subscriber with a "
                                "personal-data-reader token opens them with `POST "
                                "/v1/personal-data/reveal` (docs/SUBSCRIBERS.md)."},
        "defaultContentType": "application/cloudevents+json",
        "channels": channels, "operations": operations,
        "components": {"messages": messages},
    }
