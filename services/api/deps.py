"""Dependencies, declared once as ``Annotated`` aliases."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, get_args, get_type_hints

import anyio
import orjson
from fastapi import Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from domain.access.aggregate import Role
from domain.envelope import moment_of
from domain.ledger import CommandContext
from domain.meta import CommandMeta
from infra.auth import Grant
from infra.personal.sealing import holds_sealed_value
from services.api.bootstrap import PositionBeyondHeadError, Runtime, TooManyWaitsError
from services.api.models.common import SEALED_REFUSED, OccurredAt
from services.api.problems import ProblemError

ALL_ROLES: tuple[Role, ...] = get_args(Role)
READ: tuple[Role, ...] = tuple(r for r in ALL_ROLES if r != "personal-data-reader")
"""Who reads the read models: every role but the one that only opens sealed values."""
MANAGE: tuple[Role, ...] = ("admin", "lead")
OPERATE: tuple[Role, ...] = ("admin", "lead", "member")
AUDIT: tuple[Role, ...] = ("admin", "lead", "auditor")
FEED: tuple[Role, ...] = ("admin", "auditor", "service")
DECIDE: tuple[Role, ...] = ("admin", "auditor")
"""Who decides on compliance findings (waive, accept a risk, reopen)."""
REVEAL: tuple[Role, ...] = ("admin", "personal-data-reader")
"""Who may open sealed personal values taken from the Kafka topics."""


# The dependencies every request solves (runtime, grant, role) are ``async``: FastAPI
# runs each plain ``def`` dependency in its worker-thread pool, one hop apiece, and
# these do no I/O but for an issued token's look-up, which takes a thread of its own.


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def client_address(request: Request) -> str:
    """The address failed authentications are counted against."""
    return request.client.host if request.client is not None else "unknown"


async def current_grant(request: Request) -> Grant:
    """The caller's grant. An address with too many failed authentications is refused
    (429) before its token is looked at; each failure with a credential counts.

    The runtime and the ``Authorization`` header are read off the request, not declared
    as parameters: FastAPI parses and validates each declared parameter of each
    dependency on every request, and the header is not in the schema anyway (bearer
    auth is declared once, ``services/api/openapi.py``)."""
    cached: Grant | None = getattr(request.state, "grant", None)
    if cached is not None:  # asked again in the same request (a role check, a route)
        return cached
    grant = await _grant_of(request, request.headers.get("authorization"))
    request.state.grant = grant
    return grant


async def _grant_of(request: Request, authorization: str | None) -> Grant:
    runtime: Runtime = request.app.state.runtime
    address = client_address(request)
    _refuse_blocked_address(runtime, address)
    if not authorization:
        raise ProblemError(401, "missing bearer token", headers=CHALLENGE)
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        runtime.rate_limits.failed(address)
        raise ProblemError(401, "use 'Authorization: Bearer <token>'", headers=CHALLENGE)
    tokens, secret = runtime.tokens, token.strip()
    grant = tokens.configured(secret)
    if grant is None:  # an issued token is read from the event store: off the loop
        grant = await anyio.to_thread.run_sync(tokens.issued, secret)
    return _admitted(runtime, address, grant)


CHALLENGE = {"WWW-Authenticate": 'Bearer realm="opsledger"'}


def _refuse_blocked_address(runtime: Runtime, address: str) -> None:
    wait = runtime.rate_limits.address_blocked_for(address)
    if wait is not None:
        raise ProblemError(
            429, f"too many failed authentications from this address; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def grant_of_token(runtime: Runtime, address: str, token: str) -> Grant:
    """The grant of ``token`` presented from ``address``, through the token registry and
    the rate limits every request meets: a blocked address is 429 before the token is
    looked at, an unknown (or revoked) token is 401 and counts as a failure from the
    address, a token over its request limit is 429. The console's session comes here;
    the bearer header comes through :func:`current_grant`, to the same rules."""
    _refuse_blocked_address(runtime, address)
    return _admitted(runtime, address, runtime.tokens.resolve(token) if token else None)


def _admitted(runtime: Runtime, address: str, grant: Grant | None) -> Grant:
    """``grant`` if there is one and its token is under its request limit (else 401, counted
    against ``address``, or 429)."""
    limits = runtime.rate_limits
    if grant is None:
        limits.failed(address)
        raise ProblemError(401, "unknown bearer token", headers=CHALLENGE)
    wait = limits.token_request(grant.token_key)
    if wait is not None:
        raise ProblemError(
            429, f"this token has made too many requests; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    return grant


GrantDep = Annotated[Grant, Depends(current_grant)]


async def optional_grant(
    request: Request,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Grant | None:
    """For routes open to probes: no ``Authorization`` header is ``None``; a header is
    checked as on every route (a bad token is a 401)."""
    if authorization is None:
        return None
    return await _grant_of(request, authorization)


OptionalGrant = Annotated[Grant | None, Depends(optional_grant)]


def require_role(grant: Grant, roles: tuple[Role, ...]) -> Grant:
    """``grant`` if it holds one of ``roles``, else 403."""
    if not grant.roles & set(roles):
        raise ProblemError(403, f"{grant.principal} needs one of the roles {', '.join(roles)}")
    return grant


def allow(*roles: Role) -> Callable[[Request], Awaitable[Grant]]:
    """The dependency of a route open to ``roles``: the caller's grant, checked. It asks
    :func:`current_grant` itself rather than depending on it, one dependency fewer for
    FastAPI to solve on every request (``openapi.auth_of`` knows it by ``authenticates``)."""
    async def check(request: Request) -> Grant:
        return require_role(await current_grant(request), roles)

    check.authenticates = True  # type: ignore[attr-defined]
    return check


Admin = Annotated[Grant, Depends(allow("admin"))]
Manager = Annotated[Grant, Depends(allow(*MANAGE))]
Operator = Annotated[Grant, Depends(allow(*OPERATE))]
Reader = Annotated[Grant, Depends(allow(*READ))]
Auditor = Annotated[Grant, Depends(allow(*AUDIT))]
FeedReader = Annotated[Grant, Depends(allow(*FEED))]
Decider = Annotated[Grant, Depends(allow(*DECIDE))]
PersonalDataReader = Annotated[Grant, Depends(allow(*REVEAL))]


def check_team(grant: Grant, team_id: object) -> None:
    """Team scope of a request that names its team (path, body or document). A command
    that names only its aggregate is checked by the ledger, after its one load."""
    if not grant.may_see_team(str(team_id)):
        raise ProblemError(403, f"{grant.principal} may not act on team {team_id}")


def check_list_scope(grant: Grant, team_id: object | None) -> None:
    """A team-scoped token lists only its teams' items: it must name the team."""
    if team_id is not None:
        check_team(grant, team_id)
    elif "*" not in grant.teams:
        raise ProblemError(403, f"{grant.principal} is limited to some teams: pass team_id")


def _if_match(value: str | None) -> int | None:
    """An empty ``If-Match:`` is no condition, as if the header were absent."""
    if value is None or not value.strip():
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    # Bounded: a version fits 64 bits, and int() of thousands of digits is refused anyway.
    if not raw.isdigit() or len(raw) > 19:
        raise ProblemError(400, "If-Match must be an aggregate version number, e.g. If-Match: 3")
    return int(raw)


_OCCURRED_AT: TypeAdapter[str] = TypeAdapter(OccurredAt)
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def occurred_at_of(body: bytes) -> datetime | None:
    """A command body's ``occurred_at`` (:class:`~services.api.models.common.CommandBody`),
    read here once for every command. None when absent, and when malformed: the body's
    own validation then answers 422 before the command runs."""
    if not body:
        return None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    value = document.get("occurred_at") if isinstance(document, dict) else None
    if value is None:
        return None
    try:
        return moment_of(_OCCURRED_AT.validate_python(value))
    except PydanticValidationError:
        return None


# The headers of a command. Read off the request by :func:`command_context` itself: as
# declared parameters FastAPI validated each of them on every command through its
# general machinery, a fifth of a command's CPU. Declared here once, with the rules and
# descriptions of the OpenAPI document, which lists them on every command route
# (``services/api/openapi.py`` takes them from :func:`documented_command_headers`).
IfMatch = Annotated[str | None, Header(description="expected aggregate version")]
IdempotencyKey = Annotated[
    str | None, Header(max_length=200, description="retry-safe key; repeats append nothing")]
CorrelationId = Annotated[str | None, Header(max_length=200)]
CausationId = Annotated[str | None, Header(max_length=200)]
ImportRun = Annotated[str | None, Header(
    max_length=36, pattern=_UUID,
    description="the open import run (POST /v1/imports) this command belongs to: a "
                "declared backfill, whose past occurred_at is no backdated_entry")]


def documented_command_headers(
    if_match: IfMatch = None, idempotency_key: IdempotencyKey = None,
    x_correlation_id: CorrelationId = None, x_causation_id: CausationId = None,
    opsledger_import_run: ImportRun = None,
) -> None:
    """The command headers as FastAPI documents them; never called."""


# Each header by the name FastAPI gives a declared one, with a validator of its rules.
_COMMAND_HEADERS: tuple[tuple[str, TypeAdapter[str | None]], ...] = tuple(
    (name.replace("_", "-"), TypeAdapter[str | None](annotation))
    for name, annotation in get_type_hints(documented_command_headers,
                                           include_extras=True).items()
    if name != "return")


def input_errors(error: PydanticValidationError, where: str, name: str,
                 ) -> list[dict[str, Any]]:
    """``error`` as FastAPI reports an invalid declared parameter (``where``: header,
    query), for a :class:`RequestValidationError`."""
    return [{**e, "loc": (where, name, *e["loc"])} for e in error.errors(include_url=False)]


def command_headers(request: Request) -> list[str | None]:
    """The command headers of ``request`` (None when absent), validated as FastAPI
    would a declared header: the same rules, the same 422 (each invalid header at
    ``["header", name]``, with pydantic's message and type)."""
    headers = request.headers
    values: list[str | None] = []
    errors: list[dict[str, Any]] = []
    for name, adapter in _COMMAND_HEADERS:
        value = headers.get(name)
        if value is not None:
            try:
                value = adapter.validate_python(value)
            except PydanticValidationError as e:
                errors += input_errors(e, "header", name)
        values.append(value)
    if errors:
        raise RequestValidationError(errors)
    return values


async def command_context(request: Request, grant: GrantDep) -> CommandContext:
    if_match, idempotency_key, correlation_id, causation_id, import_run = (
        command_headers(request))
    _refuse_sealed_headers(x_correlation_id=correlation_id, x_causation_id=causation_id)
    return context_for(
        grant, method=request.method, path=request.url.path, body=await request.body(),
        if_match=_if_match(if_match), idempotency_key=idempotency_key,
        correlation_id=correlation_id, causation_id=causation_id, import_run=import_run,
    )


command_context.documented_by = documented_command_headers  # type: ignore[attr-defined]


def context_for(
    grant: Grant, *, method: str, path: str, body: bytes, if_match: int | None = None,
    idempotency_key: str | None = None, correlation_id: str | None = None,
    causation_id: str | None = None, import_run: str | None = None,
) -> CommandContext:
    """The context of a command made with ``grant``: the actor is its principal, the
    teams are its teams. The API's headers and the console's forms both come here."""
    run = (import_run or "").strip()
    # The run is part of the request only when named, so fingerprints of requests
    # without it are those recorded before the header existed.
    named = f"\nimport-run: {run}".encode() if run else b""
    fingerprint = hashlib.sha256(
        method.encode() + b" " + path.encode() + named + b"\n" + body
    ).hexdigest()
    meta = CommandMeta(actor=grant.principal, causation_id=causation_id or "",
                       occurred_at=occurred_at_of(body), import_run_id=run)
    if correlation_id:
        meta = replace(meta, correlation_id=correlation_id)
    return CommandContext(
        meta=meta, if_match=if_match,
        idempotency_key=idempotency_key or None, fingerprint=fingerprint, teams=grant.teams,
    )


def _refuse_sealed_headers(**headers: str | None) -> None:
    """The ids a command records in its events' metadata are shown to readers like the
    rest of an event: they may not hold a sealed value either (``SEALED_REFUSED``)."""
    for name, value in headers.items():
        if value and holds_sealed_value(value):
            header = name.replace("_", "-")
            raise ProblemError(422, "the request is not valid", errors=[
                {"loc": ["header", header], "msg": SEALED_REFUSED, "type": "value_error"}])


CommandCtx = Annotated[CommandContext, Depends(command_context)]


MinPosition = Annotated[
    int | None, Query(ge=0, description="wait until the read models include this position")]


async def read_your_writes(request: Request, min_position: MinPosition = None) -> None:
    """Awaited on the event loop: a wait holds no worker thread."""
    if min_position is None:
        return
    await applied(request.app.state.runtime, min_position)


async def applied(runtime: Runtime, min_position: int) -> None:
    """Wait until the read models include ``min_position``: 409 beyond the head, 503
    with Retry-After when too many wait or the wait times out."""
    try:
        applied = await runtime.await_position(min_position,
                                               runtime.settings.min_position_timeout)
    except PositionBeyondHeadError as e:
        raise ProblemError(409, f"{e}; it cannot be waited for", head=e.head) from None
    except TooManyWaitsError:
        raise ProblemError(
            503, "too many requests are waiting for positions; retry shortly",
            headers={"Retry-After": "1"},
        ) from None
    if not applied:
        raise ProblemError(
            503, f"read models have not yet applied position {min_position}",
            headers={"Retry-After": "1"},
        )


Fresh = Annotated[None, Depends(read_your_writes)]


async def caught_up(request: Request) -> None:
    """For a command judged by what the read models show (a decision on a finding):
    wait until they include everything recorded before it, as ``min_position=<head>``
    would, so it is never judged by stale facts; 503 with Retry-After if not in time."""
    runtime: Runtime = request.app.state.runtime
    await applied(runtime, await anyio.to_thread.run_sync(runtime.ledger.head_position))


CaughtUp = Annotated[None, Depends(caught_up)]

Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="from next_cursor")]


# -- team scope of reads ---------------------------------------------------------------


def team_scope(grant: Grant, team_id: object | None = None) -> dict[str, object]:
    """The ``team_id`` filter of a read that follows the token's teams, for the query
    itself (never applied after paging, so pages, cursors and counts show nothing of
    other teams). Naming a team the token does not hold is 403. Without a team: all
    the token's teams, or no filter for a token of every team (``"*"``), which alone
    also sees records of no team. Records without the field never match a scoped
    filter (fail closed)."""
    from infra.read_store.port import AnyOf  # here: the rest of this module needs no store

    if team_id is not None:
        check_team(grant, team_id)
        return {"team_id": str(team_id)}
    if "*" in grant.teams:
        return {}
    return {"team_id": AnyOf(sorted(grant.teams))}


def may_see_record(grant: Grant, team_id: object | None) -> bool:
    """Whether a record of ``team_id`` (None: of no team) is within the token's teams."""
    return "*" in grant.teams or (team_id is not None and str(team_id) in grant.teams)
