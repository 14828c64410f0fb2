r"""The OpenAPI document, completed in one place.

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
- the input rules a generated client (or a fuzzer) cannot see in FastAPI's schema
  (:mod:`services.api.openapi_input_rules`), and ``If-Match`` as a version number.

A route may still declare specifics of its own (``responses=``, ``openapi_extra=``):
what it declares is kept, the common entries only fill the gaps.

The 405 ``Allow`` header that matches the document is in :mod:`services.api.problems`;
``/docs`` and ``/redoc`` without a CDN are in :mod:`services.api.offline_docs`.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from typing import Any

import fastapi.routing
from fastapi import Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api.deps import current_grant
from services.api.openapi_input_rules import document_input_rules
from services.api.problems import PROBLEM_JSON

SCHEME = "bearerAuth"
COMMAND_METHODS = frozenset({"post", "put", "patch", "delete"})
READS_BY_POST = frozenset({"/v1/personal-data/reveal"})
"""POST routes that change nothing: their input (sealed values) belongs in a body, never
in a URL that proxies and access logs keep. No version, no If-Match, no ETag."""

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
# A command judged by the read models waits for them to include the whole log.
CAUGHT_UP: dict[str, Any] = {
    "description": "The read models have not caught up with the log in time (the decision "
                   "is judged by everything recorded before it): try again after "
                   "Retry-After seconds",
    "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    "headers": {"Retry-After": RETRY_AFTER},
}
# Specific answers that no route kind implies, by (method, path template).
SPECIFIC: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("get", "/readyz"): {"503": READINESS},
    **{("post", f"/v1/compliance/findings/{{finding_id}}/{decision}"): {"503": CAUGHT_UP}
       for decision in ("waive", "accept-risk", "reopen")},
}

# `If-Match` as the server reads it: a version number, optionally quoted or weak.
IF_MATCH_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": r'^((W/)?"?[0-9]{1,18}"?)?$',
    "description": 'expected aggregate version: 3, "3" or W/"3" (a stale one answers 412); '
                   "empty is no condition",
}


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
    if any(call is current_grant or getattr(call, "authenticates", False)
           for call in _calls(route.dependant)):
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


def is_command(method: str, path: str) -> bool:
    return method in COMMAND_METHODS and path not in READS_BY_POST


def common_errors(method: str, auth: str, operation: dict[str, Any],
                  path: str = "") -> dict[int, dict[str, Any]]:
    """The error answers a route of this kind can give."""
    params = _parameters(operation)
    names = {name for _, name in params}
    has_input = bool(params) or "requestBody" in operation
    command = is_command(method, path)
    errors: dict[int, dict[str, Any]] = {}
    if has_input:
        errors[400] = _problem(400)
        errors[422] = _problem(422)
    if command or "requestBody" in operation:
        errors[413] = _problem(413)
    if auth != "none":
        errors[401] = _problem(401, headers={"WWW-Authenticate": WWW_AUTHENTICATE})
        errors[429] = _problem(429, headers={"Retry-After": RETRY_AFTER})
    if auth == "required":
        errors[403] = _problem(403)
    if command or any(where == "path" for where, _ in params):
        errors[404] = _problem(404)
    if command:
        errors[409] = _problem(409)
        if "if-match" in names:
            errors[412] = _problem(412)
    if "min_position" in names:
        errors.setdefault(409, _problem(409, QUERY_CONFLICT))
        errors[503] = _problem(503, headers={"Retry-After": RETRY_AFTER})
    return errors


@functools.cache
def _declared_parameters(declares: Callable[..., Any]) -> tuple[dict[str, Any], ...]:
    """The parameters ``declares`` declares, as FastAPI documents them: read from the
    document of a route of their own."""
    probe = FastAPI()
    probe.add_api_route("/probe", lambda: None, methods=["POST"],
                        dependencies=[Depends(declares)])
    return tuple(probe.openapi()["paths"]["/probe"]["post"].get("parameters", []))


def _add_documented_parameters(route: Any, operation: dict[str, Any]) -> None:
    """The parameters a dependency reads off the request itself (it names the function
    that declares them, ``documented_by``: the command headers, ``min_position``),
    where FastAPI would list them had the dependency declared them: after the route's
    own path and query parameters (query before header)."""
    for call in _calls(route.dependant):
        declares = getattr(call, "documented_by", None)
        if declares is None:
            continue
        if "parameters" not in operation:  # in FastAPI's place: after the operation's id
            entries = list(operation.items())
            at = next((i + 1 for i, (key, _) in enumerate(entries) if key == "operationId"),
                      0)
            operation.clear()
            operation.update([*entries[:at], ("parameters", []), *entries[at:]])
        parameters: list[dict[str, Any]] = operation["parameters"]
        added = copy.deepcopy(list(_declared_parameters(declares)))
        kinds = ("path", "query") if all(p["in"] == "query" for p in added) else (
            "path", "query", "header")
        at = sum(1 for p in parameters if p["in"] in kinds)
        parameters[at:at] = added


def _complete_operation(document: dict[str, Any], route: Any, method: str,
                        operation: dict[str, Any]) -> None:
    _add_documented_parameters(route, operation)
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
    for code, error in common_errors(method, auth, operation, route.path_format).items():
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
    if is_command(method, route.path_format):
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
    document_input_rules(document, api_routes(routes))
    return document


def install(app: FastAPI) -> None:
    """Complete the app's OpenAPI document when it is first built."""

    completed: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        document = FastAPI.openapi(app)  # FastAPI's own, cached until the routes change
        if not completed or completed[0] is not document:
            completed[:] = [complete(document, app.routes)]
        return document

    app.openapi = openapi  # type: ignore[method-assign]
