r"""The OpenAPI document, completed in one place, and the interactive docs without a CDN.

FastAPI documents each route's success answer and a generic 422. This module walks
the routes once, when ``/openapi.json`` is first asked for, and adds what every
route of a kind can answer:

- bearer auth (an HTTP bearer security scheme) on every route that resolves a token,
  optional on a route that only reads one if it is sent (``/readyz``);
- the error statuses by route kind (command, query, list), each an RFC 9457 problem
  document (``application/problem+json``, schema ``Problem``), with the headers that
  come with them (``WWW-Authenticate``, ``Retry-After``);
- the real content types of the answers that are not JSON (``/metrics``, the audit
  export);
- the input rules a generated client (or a fuzzer) cannot see in FastAPI's schema:
  ``\s`` in patterns written out as the server matches it, YYYY-MM-DD as
  ``format: date``, the characters body text refuses, white space alone refused on
  trimmed fields, ``If-Match`` as a version number.

A 405 names in ``Allow`` every method the path serves (Starlette names only those of
the first route that matched the path), as the document lists them.

A route may still declare specifics of its own (``responses=``, ``openapi_extra=``):
what it declares is kept, the common entries only fill the gaps.

``/docs`` and ``/redoc`` load Swagger UI and ReDoc from the assets that the
``fastapi-offline`` package ships, served under ``/docs/assets``; nothing is loaded
from a CDN.
"""

from __future__ import annotations

import copy
import json
import re
import typing
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from services.api.deps import current_grant
from services.api.models import common
from services.api.problems import PROBLEM_JSON, problem

SCHEME = "bearerAuth"
COMMAND_METHODS = frozenset({"post", "put", "patch", "delete"})

# Routes that read a token if one is sent and answer less without it. Found from the
# code too (a dependency on an ``Authorization`` header that does not require it);
# named here so the document stays right however the route reads the header.
OPTIONAL_AUTH_PATHS = frozenset({"/readyz"})

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "An RFC 9457 problem document. Further members may follow.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "a URI naming the kind of problem"},
        "title": {"type": "string", "description": "the HTTP status in words"},
        "status": {"type": "integer", "description": "the HTTP status"},
        "detail": {"type": "string", "description": "what went wrong, for a person"},
        "instance": {"type": "string", "description": "the path that was asked for"},
        "errors": {
            "type": "array",
            "description": "on 400/422: each invalid input, by location",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                                 {"type": "integer"}]}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

RETRY_AFTER: dict[str, Any] = {
    "description": "seconds to wait before trying again",
    "required": True,
    "schema": {"type": "string"},
}
WWW_AUTHENTICATE: dict[str, Any] = {
    "description": 'the challenge: Bearer realm="opsledger"',
    "required": True,
    "schema": {"type": "string"},
}
ETAG: dict[str, Any] = {
    "description": 'the aggregate version after the command, quoted (e.g. "3"); send it back '
                   "as If-Match to make the next command conditional",
    "required": False,
    "schema": {"type": "string"},
}

# The statuses, with what they mean on each kind of route.
MEANINGS: dict[int, str] = {
    400: "Bad input that is not a field-level validation error: a body that is not JSON, "
         "an If-Match that is not a version number, a cursor this server did not mint, "
         "a time out of range",
    401: "No bearer token, or an unknown, revoked or expired one",
    403: "The token's roles or teams do not allow this",
    404: "An id in the path or the body names nothing the token may see",
    409: "The command breaks a domain rule (e.g. resolving a closed incident, joining a "
         "member id that exists), or a concurrent change won",
    412: "If-Match names a version that is no longer current",
    413: "The request body is larger than the limit (1 MiB by default)",
    422: "The request does not validate: see `errors`",
    429: "Too many failed authentications from this address, or the token's request "
         "limit is reached: wait for Retry-After seconds",
    503: "The read models have not applied `min_position` in time, or too many requests "
         "are waiting for a position: try again after Retry-After seconds",
}
QUERY_CONFLICT = ("`min_position` is beyond the head of the log: it cannot be waited for, "
                  "so the answer comes at once")

TEXT: dict[str, Any] = {"schema": {"type": "string"}}
# Answers that are not JSON, by (method, path template).
NON_JSON: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("get", "/metrics"): {"text/plain": TEXT},
    ("get", "/v1/audit/export"): {"application/x-ndjson": TEXT, "text/csv": TEXT},
}
READINESS: dict[str, Any] = {
    "description": "Not ready: a store is unreachable or the projection failed",
    "content": {"application/json": {"schema": {"type": "object", "required": ["status"],
                                                "properties": {"status": {
                                                    "type": "string",
                                                    "enum": ["ready", "not ready"]}}}}},
}
# Specific answers that no route kind implies, by (method, path template).
SPECIFIC: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("get", "/readyz"): {"503": READINESS},
}

# `If-Match` as the server reads it: a version number, optionally quoted or weak.
IF_MATCH_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r'^((W/)?"?[0-9]{1,18}"?)?$',
    "description": 'expected aggregate version: 3, "3" or W/"3" (a stale one answers 412); '
                   "empty is no condition",
}


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


def _document_blank_text(document: dict[str, Any], routes: list[Any]) -> None:
    """Names, titles, reasons and texts are trimmed, then must not be empty, so text of
    white space only is a 422: say so (a pattern: at least one character that is not
    white space), on the fields that refuse it."""
    components = document.get("components", {}).get("schemas", {})
    models = {m for route in api_routes(routes)
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


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _headers(dependant: Dependant) -> Iterator[str]:
    for field in dependant.header_params:
        yield field.alias.lower()
    for sub in dependant.dependencies:
        yield from _headers(sub)


def api_routes(routes: list[Any]) -> Iterator[Any]:
    """The documented API routes, each with its full ``path_format``, ``methods`` and
    ``dependant`` (newer FastAPI keeps included routers whole and walks them by
    route context; older ones copy each route into the app)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    for route in contexts(routes) if contexts is not None else routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIRoute) and route.include_in_schema:
            yield route


def auth_of(route: Any) -> str:
    """``required``, ``optional`` or ``none``: how the route treats a bearer token."""
    if any(call is current_grant for call in _calls(route.dependant)):
        return "required"
    if route.path_format in OPTIONAL_AUTH_PATHS or "authorization" in _headers(route.dependant):
        return "optional"
    return "none"


def _problem(status: int, description: str | None = None,
             headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description or MEANINGS[status],
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        answer["headers"] = headers
    return answer


def _parameters(operation: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(p["in"], p["name"].lower()): p for p in operation.get("parameters", [])}


def common_errors(method: str, auth: str, operation: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The error answers a route of this kind can give."""
    params = _parameters(operation)
    names = {name for _, name in params}
    has_input = bool(params) or "requestBody" in operation
    command = method in COMMAND_METHODS
    errors: dict[int, dict[str, Any]] = {}
    if has_input:
        errors[400] = _problem(400)
        errors[422] = _problem(422)
    if auth != "none":
        errors[401] = _problem(401, headers={"WWW-Authenticate": WWW_AUTHENTICATE})
        errors[429] = _problem(429, headers={"Retry-After": RETRY_AFTER})
    if auth == "required":
        errors[403] = _problem(403)
    if command or any(where == "path" for where, _ in params):
        errors[404] = _problem(404)
    if command:
        errors[409] = _problem(409)
        errors[413] = _problem(413)
        if "if-match" in names:
            errors[412] = _problem(412)
    if "min_position" in names:
        errors.setdefault(409, _problem(409, QUERY_CONFLICT))
        errors[503] = _problem(503, headers={"Retry-After": RETRY_AFTER})
    return errors


def _complete_operation(document: dict[str, Any], route: Any, method: str,
                        operation: dict[str, Any]) -> None:
    auth = auth_of(route)
    if auth != "none":
        security: list[dict[str, list[str]]] = (
            [{SCHEME: []}] if auth == "required" else [{}, {SCHEME: []}])
        operation.setdefault("security", security)
    responses: dict[str, Any] = operation.setdefault("responses", {})
    # FastAPI's default 422 says application/json and HTTPValidationError: not what is sent.
    default_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
    if default_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    for code, error in common_errors(method, auth, operation).items():
        responses.setdefault(str(code), error)
    for status, answer in SPECIFIC.get((method, route.path_format), {}).items():
        responses.setdefault(status, copy.deepcopy(answer))
    content = NON_JSON.get((method, route.path_format))
    if content is not None:
        for status, answer in responses.items():
            if status.startswith("2"):
                answer["content"] = copy.deepcopy(content)
    for (where, name), parameter in _parameters(operation).items():
        if where == "header" and name == "if-match":
            parameter["schema"] = dict(IF_MATCH_SCHEMA)
    if method in COMMAND_METHODS:
        for status, answer in responses.items():
            if status.startswith("2") and "application/json" in answer.get("content", {}):
                answer.setdefault("headers", {}).setdefault("ETag", ETAG)


def _drop_unreferenced(document: dict[str, Any], names: tuple[str, ...]) -> None:
    """Drop FastAPI's validation-error models once nothing refers to them."""
    schemas = document.get("components", {}).get("schemas", {})
    for name in names:
        if name not in schemas:
            continue
        model = schemas.pop(name)
        if f'"#/components/schemas/{name}"' in json.dumps(document):
            schemas[name] = model


def complete(document: dict[str, Any], routes: list[Any]) -> dict[str, Any]:
    """Add security, error answers and content types to FastAPI's document, in place."""
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "http", "scheme": "bearer",
        "description": "a token from OPSLEDGER_TOKENS, the tokens file or POST /v1/tokens",
    }
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    paths = document.get("paths", {})
    for route in api_routes(routes):
        for method in sorted(m.lower() for m in route.methods):
            operation = paths.get(route.path_format, {}).get(method)
            if operation is not None:
                _complete_operation(document, route, method, operation)
    _drop_unreferenced(document, ("HTTPValidationError", "ValidationError"))
    _portable_schemas(document.get("components", {}).get("schemas", {}))
    for path in paths.values():
        _portable_schemas(path)
    _document_forbidden_text(document)
    _document_blank_text(document, routes)
    return document


def _offline_assets() -> Path | None:
    try:
        import fastapi_offline
    except ImportError:  # the docs fall back to FastAPI's CDN pages
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    wanted = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js")
    return folder if all((folder / name).is_file() for name in wanted) else None


def _serve_docs_offline(app: FastAPI) -> None:
    assets = _offline_assets()
    if assets is None or app.openapi_url is None:
        return
    pages = {app.docs_url, app.redoc_url}
    app.router.routes[:] = [
        r for r in app.router.routes if getattr(r, "path", None) not in pages
    ]
    base = "/docs/assets"
    app.mount(base, StaticFiles(directory=str(assets)), name="docs-assets")
    openapi_url = app.openapi_url
    title = app.title

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}", title=f"{title} - Swagger UI",
            swagger_js_url=f"{root}{base}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{base}/swagger-ui.css",
            swagger_favicon_url=f"{root}{base}/favicon.png",
            oauth2_redirect_url=None, swagger_ui_parameters={"persistAuthorization": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}", title=f"{title} - ReDoc",
            redoc_js_url=f"{root}{base}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{base}/favicon.png", with_google_fonts=False,
        )


def allowed_methods(routes: list[Any], path: str) -> list[str]:
    """Every method some route serves on this path (all routes, not only the first
    that matched the path, which is all Starlette names in ``Allow``)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    methods: set[str] = set()
    for route in contexts(routes) if contexts is not None else routes:
        regex, served = getattr(route, "path_regex", None), getattr(route, "methods", None)
        if regex is not None and served and regex.match(path):
            methods |= set(served)
    return sorted(methods)


def _answer_405_with_every_allowed_method(app: FastAPI) -> None:
    async def method_not_allowed(request: Request, exc: Exception) -> Response:
        headers = dict(getattr(exc, "headers", None) or {})
        allowed = allowed_methods(app.routes, request.scope.get("path", request.url.path))
        if allowed:
            headers["Allow"] = ", ".join(allowed)
        detail = str(getattr(exc, "detail", "Method Not Allowed"))
        return problem(405, detail, request, headers)

    app.add_exception_handler(405, method_not_allowed)


def install(app: FastAPI) -> None:
    """Complete the app's OpenAPI document when it is first built; serve the docs offline;
    name every allowed method in a 405's ``Allow``, as the document lists them."""

    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = FastAPI.openapi(app)  # FastAPI's own, cached until the routes change
        if not completed or completed[0] is not document:
            completed[:] = [complete(document, app.routes)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
    _serve_docs_offline(app)
    _answer_405_with_every_allowed_method(app)
