"""Tokens issued through the API: issue (the secret is answered once), list, revoke.

Admins only. An admin scoped to some teams issues, sees and revokes only tokens
within its teams. Configured tokens (env, file) are not listed and cannot be revoked
here; they change with the configuration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from domain.access import commands as c
from domain.access.aggregate import has_expired, teams_of
from domain.errors import NotFoundError
from domain.meta import ALL_TEAMS, utcnow
from infra.auth import Grant
from infra.read_store.port import BadCursorError, Filters, decode_cursor, encode_cursor
from projections.fold import Document, public
from projections.views import access
from services.api.bootstrap import Runtime
from services.api.deps import Admin, CommandCtx, Cursor, Fresh, Limit, RuntimeDep, check_team
from services.api.models.common import CommandAnswer, PrintableReason, answer
from services.api.models.tokens import (
    TokenIssue,
    TokenIssued,
    TokenPrincipal,
    TokenPublic,
    TokenRevoke,
    TokensPublic,
    TokenStatus,
)
from services.api.problems import ProblemError

router = APIRouter(tags=["tokens"])



def within_scope(grant: Grant, teams: list[str]) -> bool:
    """Whether a token with ``teams`` is within what ``grant`` may manage."""
    if ALL_TEAMS in grant.teams:
        return True
    return ALL_TEAMS not in teams and all(grant.may_see_team(t) for t in teams)


@router.post("/v1/tokens", status_code=201)
def issue_token(body: TokenIssue, grant: Admin, ctx: CommandCtx, rt: RuntimeDep,
                response: Response) -> TokenIssued:
    """Issue a token. The secret is in this answer only: OpsLedger keeps its SHA-256."""
    teams = teams_of(list(body.teams))
    if ALL_TEAMS not in grant.teams:
        if ALL_TEAMS in teams:
            raise ProblemError(403, f"{grant.principal} may not issue a token for every team")
        for team in teams:
            check_team(grant, team)
    issued = rt.access.issue(c.IssueToken(
        body.principal, list(body.roles), teams, body.expires_at, body.reason or ""), ctx)
    if issued.secret is None or issued.token is None:
        raise ProblemError(
            409, f"token {issued.result.id} was issued by an earlier request with this "
                 "Idempotency-Key; its secret was answered once and is not kept: revoke it "
                 "and issue another if it was lost",
            token_id=str(issued.result.id),
        )
    token = issued.token
    response.headers["Cache-Control"] = "no-store"
    return TokenIssued(
        **answer(issued.result, response).model_dump(), token_id=str(token.id),
        token=issued.secret, principal=token.principal, roles=list(token.roles),
        teams=list(token.teams), expires_at=token.expires_at,
    )


@router.get("/v1/tokens", response_model=TokensPublic)
def list_tokens(
    grant: Admin, rt: RuntimeDep, _: Fresh,
    principal: Annotated[TokenPrincipal | None, Query()] = None,
    status: TokenStatus | None = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Issued tokens, oldest first: metadata only, never a secret or its digest."""
    now = utcnow()
    filters: dict[str, Any] = {"principal": principal}
    if status is not None:
        filters["status"] = "revoked" if status == "revoked" else "active"

    def keep(doc: Document) -> bool:
        return within_scope(grant, doc.get("teams") or []) and (
            status is None or shown_status(doc, now) == status)

    items, next_cursor = visible_page(rt, filters, keep, limit=limit, cursor=cursor)
    return {"items": [shown(doc, now) for doc in items], "next_cursor": next_cursor}


@router.delete("/v1/tokens/{token_id}")
def revoke_token(
    token_id: UUID, grant: Admin, ctx: CommandCtx, rt: RuntimeDep, response: Response,
    body: TokenRevoke | None = None,
    reason: Annotated[
        PrintableReason | None, Query(description="the reason, if not in the body")
    ] = None,
) -> CommandAnswer:
    """Revoke a token: it stops working at once, in every API process."""
    if body is not None and reason is not None:
        raise ProblemError(422, "give the reason in the body or the query, not both")
    why = body.reason if body is not None else reason
    if why is None:
        raise ProblemError(422, "revoking a token needs a reason")
    try:
        token = rt.access.token(token_id)
    except NotFoundError:
        raise ProblemError(404, f"token {token_id} not found") from None
    if not within_scope(grant, list(token.teams)):
        raise ProblemError(403, f"{grant.principal} may not revoke token {token_id}: "
                                "it is not limited to its teams")
    return answer(rt.access.revoke(c.RevokeToken(token_id, why), ctx), response)


# -- reading the tokens read model -------------------------------------------------------


def shown_status(doc: Document, now: datetime) -> TokenStatus:
    if doc.get("status") == "revoked":
        return "revoked"
    if has_expired(doc.get("expires_at"), now):
        return "expired"
    return "active"


def shown(doc: Document, now: datetime) -> dict[str, Any]:
    fields = TokenPublic.model_fields
    return {**{k: v for k, v in doc.items() if k in fields}, "status": shown_status(doc, now)}


def visible_page(
    rt: Runtime, filters: Filters, keep: Callable[[Document], bool], *, limit: int,
    cursor: str | None,
) -> tuple[list[Document], str | None]:
    """A page of the documents ``keep`` lets through, whose cursor is made from the last
    item answered, so it names nothing the caller may not see."""
    order_by = "issued_at"
    if cursor is not None and not isinstance(decode_cursor(cursor)[0], str):
        raise BadCursorError("the cursor is not valid")  # issued_at is always a string
    clean = {k: v for k, v in filters.items() if v is not None}
    kept: list[Document] = []
    after = cursor
    while len(kept) <= limit:
        found = rt.store.find(access.COLLECTION, clean, order_by=order_by,
                              limit=limit + 1, cursor=after)
        kept += [doc for doc in (public(d) for d in found.items)
                 if doc is not None and keep(doc)]
        if found.next_cursor is None:
            break
        after = found.next_cursor
    items = kept[:limit]
    more = len(kept) > limit
    next_cursor = encode_cursor(items[-1][order_by], items[-1]["id"]) if more else None
    return items, next_cursor
