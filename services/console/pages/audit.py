"""The audit trail pages.

``/console/audit``: the trail of the token's teams (``GET /v1/audit``'s query and
filters: entity, actor, type, when it happened), 100 records a page, each record
linked to its entity's versions.

``/console/audit/entities/{id}``: every version of one entity (``GET /v1/compliance/
entities/{id}/history``) with both times, what changed between two versions (a diff of
their states), and the entity as of a recording time and at a business time (the
API's both-axes as-of query: ``as_of`` what OpsLedger had recorded by then,
``effective_at`` how things stood then).

The times typed in the forms are UTC (``datetime-local`` fields); a time that is not
one is a 422 page that says which.
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from domain.envelope import iso_time
from infra.auth import Grant
from projections import compliance_history
from projections.fold import public
from projections.times import parse_time
from services.api.bootstrap import Runtime
from services.api.deps import AUDIT, team_scope
from services.api.problems import ProblemError
from services.api.queries import page as page_of
from services.api.routes.audit import audit_filters
from services.console.actions.commands import utc_of_local
from services.console.auth import SignedIn
from services.console.diffs import diff
from services.console.rendering import PREFIX, page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 100
MAX_VERSIONS = 500
Text = Annotated[str | None, Query(max_length=200)]


def moment(name: str, value: str | None) -> datetime | None:
    """A typed time (UTC unless it says otherwise), or a 422 naming the field."""
    text = utc_of_local(value)
    if text is None:
        return None
    try:
        at = parse_time(text)
    except (ValueError, OverflowError):
        raise ProblemError(422, f"{name}: {value!r} is not a time "
                                "(YYYY-MM-DDTHH:MM, UTC)") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def local(at: datetime | None) -> str:
    """A time as a ``datetime-local`` field shows it (UTC, to the minute)."""
    return "" if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def require_auditing(grant: Grant) -> None:
    if not grant.roles & set(AUDIT):
        raise ProblemError(403, "the audit trail is shown to leads, auditors and admins")


@router.get(f"{PREFIX}/audit")
def audit_page(request: Request, viewer: SignedIn, entity_id: Text = None, actor: Text = None,
               type: Text = None, since: Text = None, until: Text = None,
               cursor: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    require_auditing(viewer.grant)
    start, end = moment("since", since), moment("until", until)
    given = {"entity_id": (entity_id or "").strip() or None,
             "actor": (actor or "").strip() or None, "type": (type or "").strip() or None}
    filters = {**audit_filters(given["entity_id"], given["actor"], given["type"], start, end),
               **team_scope(viewer.grant)}
    found = page_of(rt, "audit_trail", filters, limit=PAGE_SIZE, cursor=cursor,
                    order_by="position")
    query = {k: v for k, v in {**given, "since": local(start), "until": local(end)}.items()
             if v}
    next_href = None
    if found.get("next_cursor"):
        next_href = f"{PREFIX}/audit?{urlencode({**query, 'cursor': found['next_cursor']})}"
    return page(request, "audit.html", "Audit trail", viewer=viewer,
                records=with_history(rt, found["items"]),
                values={**given, "since": local(start), "until": local(end)},
                next_href=next_href, filtered=bool(query))


def with_history(rt: Runtime, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each audit record with ``history_href``: the page of its entity's versions where
    the entity has a history (every entity with a read model), else its trail (an
    import run's records, say, have no versions to show)."""
    ids = {str(r["id"]): compliance_history.record_id(str(r["entity_id"]),
                                                      int(r["entity_version"] or 0))
           for r in records if r.get("entity_id")}
    found = rt.store.get_many("compliance_history", sorted(set(ids.values())))
    shown = []
    for r in records:
        entity = str(r.get("entity_id") or "")
        href = f"{PREFIX}/audit?{urlencode({'entity_id': entity})}"
        if ids.get(str(r["id"])) in found:
            href = f"{PREFIX}/audit/entities/{quote(entity)}?version={r['entity_version']}"
        shown.append({**r, "history_href": href})
    return shown


def versions_of(rt: Runtime, grant: Grant, entity_id: str) -> list[dict[str, Any]]:
    found = rt.store.iter_find("compliance_history",
                               {"entity_id": entity_id, **team_scope(grant)}, order_by="version")
    records = [r for r in (public(d) for d in islice(found, MAX_VERSIONS)) if r is not None]
    if not records:
        raise ProblemError(404, f"entity {entity_id} not found")
    return records


def pick(versions: list[dict[str, Any]], wanted: int | None, default: int) -> int:
    """``wanted`` if the entity has that version, else ``default``."""
    numbers = {int(v["version"]) for v in versions}
    return wanted if wanted in numbers else default


@router.get(f"{PREFIX}/audit/entities/{{entity_id}}")
def entity_page(
    request: Request, entity_id: Annotated[str, Path(max_length=100)], viewer: SignedIn,
    as_of: Text = None, effective_at: Text = None,
    version: Annotated[int | None, Query(ge=1, le=10**9)] = None,
    from_version: Annotated[int | None, Query(alias="from", ge=1, le=10**9)] = None,
    to_version: Annotated[int | None, Query(alias="to", ge=1, le=10**9)] = None,
) -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    require_auditing(viewer.grant)
    versions = versions_of(rt, viewer.grant, entity_id)
    by_number = {int(v["version"]): v for v in versions}
    latest = int(versions[-1]["version"])
    to = pick(versions, to_version or version, latest)
    frm = pick(versions, from_version, max(to - 1, 1))
    changes = diff(by_number[frm]["state"] if frm != to else None, by_number[to]["state"])
    known, at = moment("as_of", as_of), moment("effective_at", effective_at)
    as_of_state = None
    if known is not None or at is not None:
        when = iso_time(known or datetime.now(UTC))
        as_of_state = {"as_of": when, "effective_at": iso_time(at) if at else None,
                       "record": compliance_history.state_as_of(
                           versions, when, iso_time(at) if at else None)}
    return page(request, "entity.html", f"Versions of {entity_id}", viewer=viewer,
                entity_id=entity_id, versions=versions, frm=frm, to=to, changes=changes,
                as_of_state=as_of_state, as_of_value=local(known), effective_value=local(at),
                here=f"{PREFIX}/audit/entities/{entity_id}")
