r"""The input rules a generated client (or a fuzzer) cannot see in FastAPI's schema,
written into the OpenAPI document (part of completing it, :mod:`services.api.openapi`):

- ``\s`` in patterns written out as the server matches it (Unicode White_Space);
- YYYY-MM-DD patterns as ``format: date``;
- the characters body text refuses (``common.FORBIDDEN_IN_TEXT``), on every free text
  field of every request body;
- white space alone refused on the fields that are trimmed and must not be empty.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable, Iterator
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from services.api.models import common

# Bodies are validated by pydantic-core, whose patterns are Rust regexes with Unicode
# classes; the document's patterns are read as ECMA-262 (and generated from with
# Python's `re`). The three disagree on `\s`, so the document spells it out: Unicode
# White_Space, as the server matches it.
WHITE_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# A YYYY-MM-DD pattern stands for a calendar date: say so (`format: date`).
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def portable_pattern(pattern: str) -> str:
    r"""``pattern`` with ``\s`` written out, so every regex dialect reads it alike."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            pair = pattern[i:i + 2]
            if pair == "\\s":
                out.append(WHITE_SPACE if in_class else f"[{WHITE_SPACE}]")
            else:
                out.append(pair)
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        out.append(char)
        i += 1
    return "".join(out)


def _portable_schemas(node: Any) -> None:
    if isinstance(node, dict):
        pattern = node.get("pattern")
        if pattern == DATE_PATTERN and node.get("type") == "string":
            del node["pattern"]
            node.setdefault("format", "date")
        elif isinstance(pattern, str):
            node["pattern"] = portable_pattern(pattern)
        for value in node.values():
            _portable_schemas(value)
    elif isinstance(node, list):
        for value in node:
            _portable_schemas(value)


def _forbidden_text() -> str | None:
    """The characters no text in a body may hold (``common.FORBIDDEN_IN_TEXT``, a
    character class), if the body models refuse any."""
    forbidden = getattr(common, "FORBIDDEN_IN_TEXT", None)
    if not isinstance(forbidden, re.Pattern):
        return None
    # written with escapes, so the document shows which characters (NUL is invisible)
    return "".join(c if 0x20 <= ord(c) < 0x7F or ord(c) > 0xFFFF else f"\\u{ord(c):04x}"
                   for c in forbidden.pattern)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _body_models(document: dict[str, Any]) -> set[str]:
    """Every component schema a request body uses, directly or nested."""
    schemas_ = document.get("components", {}).get("schemas", {})
    found: set[str] = set()
    todo = [name for path in document.get("paths", {}).values() for op in path.values()
            if isinstance(op, dict) for name in _refs(op.get("requestBody", {}))]
    while todo:
        name = todo.pop()
        if name not in found and name in schemas_:
            found.add(name)
            todo.extend(_refs(schemas_[name]))
    return found


def _refuse_text(node: Any, forbidden: str) -> None:
    if isinstance(node, dict):
        if (node.get("type") == "string" and not {"format", "enum", "const", "not"} & set(node)):
            node["not"] = {"pattern": forbidden}
        for key, value in node.items():
            if key != "not":
                _refuse_text(value, forbidden)
    elif isinstance(node, list):
        for value in node:
            _refuse_text(value, forbidden)


def _document_forbidden_text(document: dict[str, Any]) -> None:
    """Body text refuses NUL and bidirectional controls (a 422): say so on every free
    text field of every body, as ``not: {pattern: <the class>}``."""
    forbidden = _forbidden_text()
    if forbidden is None:
        return
    schemas_ = document.get("components", {}).get("schemas", {})
    for name in _body_models(document):
        _refuse_text(schemas_[name], forbidden)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def _refuses(annotation: Any, blank: Any, plain: Any) -> bool:
    """Whether values of this type refuse ``blank`` as too short (once stripped) while
    taking ``plain``."""
    adapter = TypeAdapter(annotation)
    try:
        adapter.validate_python(plain)
    except PydanticValidationError:
        return False
    try:
        adapter.validate_python(blank)
    except PydanticValidationError as e:
        return any(error["type"] == "string_too_short" for error in e.errors())
    return False


def _strings(schema: dict[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    """The string schemas (``kind="string"``) or array item schemas (``"array"``) of a
    property, through ``anyOf``."""
    for branch in [schema, *schema.get("anyOf", [])]:
        if kind == "string" and branch.get("type") == "string":
            yield branch
        elif kind == "array" and branch.get("type") == "array":
            items = branch.get("items", {})
            if items.get("type") == "string":
                yield items


def _document_blank_text(document: dict[str, Any], routes: Iterable[Any]) -> None:
    """Names, titles, reasons and texts are trimmed, then must not be empty, so text of
    white space only is a 422: say so (a pattern: at least one character that is not
    white space), on the fields that refuse it."""
    components = document.get("components", {}).get("schemas", {})
    models = {m for route in routes
              if (body := getattr(getattr(route, "original_route", route), "body_field", None))
              for m in _models_in(body.field_info.annotation)}
    not_blank = f"[^{WHITE_SPACE}]"
    for model in models:
        names = {f.alias or n for n, f in model.model_fields.items()}
        for schema in components.values():
            if schema.get("title") != model.__name__ or set(schema.get("properties", {})) != names:
                continue
            for name, field in model.model_fields.items():
                prop = schema["properties"][field.alias or name]
                annotation = (Annotated[field.annotation, *field.metadata] if field.metadata
                              else field.annotation)
                for kind, blank, plain in (("string", " ", "x"), ("array", [" "], ["x"])):
                    if _refuses(annotation, blank, plain):
                        for string in _strings(prop, kind):
                            string.setdefault("pattern", not_blank)


def document_input_rules(document: dict[str, Any], routes: Iterable[Any]) -> None:
    """Write the input rules into ``document``, in place; ``routes`` are the documented
    API routes (their body models say which fields refuse blank text)."""
    _portable_schemas(document.get("components", {}).get("schemas", {}))
    for path in document.get("paths", {}).values():
        _portable_schemas(path)
    _document_forbidden_text(document)
    _document_blank_text(document, routes)
