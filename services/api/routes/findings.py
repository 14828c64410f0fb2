"""Findings of the compliance controls, and the decisions on them: waive, accept as a
risk, reopen (admin or auditor, never a principal the finding's evidence names).

Findings are computed when asked (:mod:`services.api.compliance_findings`: the list
keeps only its page while it evaluates) and follow
the token's teams: a finding of another team is not found (404, as an unknown one), a
``team_id`` of another team is 403. A decision first waits for the read models to
include everything recorded before it, so it is judged by the facts as they stand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from domain.compliance import finding_commands as fc
from domain.envelope import moment_of
from domain.ledger import CommandResult
from infra.read_store.port import BadCursorError, decode_cursor, encode_cursor
from projections.times import parse_time
from services.api.bootstrap import Runtime
from services.api.compliance_findings import facts_of, findings_page, now_iso, one_finding
from services.api.deps import (
    Auditor,
    CaughtUp,
    CommandCtx,
    Cursor,
    Decider,
    Fresh,
    Limit,
    RuntimeDep,
    may_see_record,
    team_scope,
)
from services.api.models.common import answer
from services.api.models.compliance import (
    FindingAcceptRisk,
    FindingDecided,
    FindingPublic,
    FindingReopen,
    FindingsPublic,
    FindingState,
    FindingStatus,
    FindingWaive,
)

router = APIRouter(tags=["compliance"])

FindingId = Annotated[str, Path(max_length=200, description="e.g. ack_sla:<incident id>")]


def _after(cursor: str) -> tuple[datetime, str]:
    """The (opened at, id) of the last finding of the previous page."""
    opened_at, finding_id = decode_cursor(cursor)
    try:
        return parse_time(str(opened_at)), finding_id
    except (ValueError, TypeError, OverflowError):
        raise BadCursorError("the cursor is not valid") from None


@router.get("/v1/compliance/findings", response_model=FindingsPublic,
            response_model_exclude_unset=True)
def findings(
    grant: Auditor, rt: RuntimeDep, _: Fresh,
    control: Annotated[str | None, Query(max_length=100)] = None,
    team_id: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[FindingStatus | None, Query()] = None,
    state: Annotated[FindingState | None, Query(
        description="open, resolved, waived or risk_accepted (decisions applied)")] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> dict[str, Any]:
    """Findings of the compliance controls on the token's teams, with the events that
    evidence them and the decisions on them; oldest first (opening time, then id)."""
    after = _after(cursor) if cursor else None
    scope = team_scope(grant, team_id)  # in the queries: other teams are never read

    def keep(f: dict[str, Any]) -> bool:
        return ((control is None or f["control"] == control)
                and (status is None or f["status"] == status)
                and (state is None or f["state"] == state)
                and (team_id is None or f.get("team_id") == team_id)
                and may_see_record(grant, f.get("team_id")))

    items, more = findings_page(rt, scope, now_iso(), keep=keep, after=after, limit=limit,
                                control=control)
    next_cursor = None
    if more:
        next_cursor = encode_cursor(items[-1]["opened_at"], items[-1]["id"])
    return {"items": items, "next_cursor": next_cursor}


@router.get("/v1/compliance/findings/{finding_id}", response_model=FindingPublic,
            response_model_exclude_unset=True)
def finding(finding_id: FindingId, grant: Auditor, rt: RuntimeDep, _: Fresh) -> dict[str, Any]:
    """One finding as the controls find it now, with its state and decisions."""
    return one_finding(rt, grant, finding_id, now_iso())


@router.post("/v1/compliance/findings/{finding_id}/waive")
def waive_finding(finding_id: FindingId, body: FindingWaive, grant: Decider,
                  _: CaughtUp, ctx: CommandCtx, rt: RuntimeDep,
                  response: Response) -> FindingDecided:
    """Waive an open finding, with a reason, until a time or until reopened."""
    facts = facts_of(rt, one_finding(rt, grant, finding_id, now_iso()))
    until = moment_of(body.until) if body.until is not None else None
    result = rt.findings.waive(fc.WaiveFinding(finding_id, body.reason, until), facts, ctx)
    return _decided(rt, finding_id, result, response)


@router.post("/v1/compliance/findings/{finding_id}/accept-risk")
def accept_finding_risk(finding_id: FindingId, body: FindingAcceptRisk, grant: Decider,
                        _: CaughtUp, ctx: CommandCtx, rt: RuntimeDep,
                        response: Response) -> FindingDecided:
    """Accept an open finding as a risk, with a reason, until a time at most a year on."""
    facts = facts_of(rt, one_finding(rt, grant, finding_id, now_iso()))
    command = fc.AcceptFindingRisk(finding_id, body.reason, moment_of(body.until))
    result = rt.findings.accept_risk(command, facts, ctx)
    return _decided(rt, finding_id, result, response)


@router.post("/v1/compliance/findings/{finding_id}/reopen")
def reopen_finding(finding_id: FindingId, body: FindingReopen, grant: Decider,
                   _: CaughtUp, ctx: CommandCtx, rt: RuntimeDep,
                   response: Response) -> FindingDecided:
    """Withdraw a waiver or an accepted risk: the finding is open again."""
    facts = facts_of(rt, one_finding(rt, grant, finding_id, now_iso()))
    result = rt.findings.reopen(fc.ReopenFinding(finding_id, body.reason), facts, ctx)
    return _decided(rt, finding_id, result, response)


def _decided(rt: Runtime, finding_id: str, result: CommandResult,
             response: Response) -> FindingDecided:
    state = rt.findings.state_at(finding_id, datetime.now(UTC))
    return FindingDecided(**answer(result, response).model_dump(), finding_id=finding_id,
                          state=state)

