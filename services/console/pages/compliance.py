"""The compliance page: the findings of the compliance controls on the token's teams
(as ``GET /v1/compliance/findings`` computes them, with their decisions applied), by
state, each with its evidence events linked to their audit records (the entity's
history in the audit trail page), and, for auditors and admins, the forms that waive
a finding or accept it as a risk (:mod:`services.console.actions.findings`).

Findings are read by the roles that read them on the API (leads, auditors, admins);
the forms are shown to those that decide on them (auditors, admins), never to a lead
or a member.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from projections.views.finding_decisions import COLLECTION as DECISIONS
from services.api.bootstrap import Runtime
from services.api.compliance_findings import findings_summary, now_iso
from services.api.deps import AUDIT, DECIDE, may_see_record, team_scope
from services.api.problems import ProblemError
from services.api.queries import visible_teams
from services.console.auth import SignedIn
from services.console.pages.audit import with_history
from services.console.rendering import PREFIX, notice_of, page

router = APIRouter(include_in_schema=False)

StateFilter = Literal["open", "resolved", "waived", "risk_accepted", "all"]
STATES: tuple[str, ...] = ("open", "waived", "risk_accepted", "resolved", "all")
LIMIT = 300
"""The most findings one page shows (the rest are counted)."""


def with_evidence(rt: Runtime, findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each finding with its evidence events' audit records (what, when, who, and
    the entity and version each made)."""
    ids = sorted({str(i) for f in findings for i in f.get("evidence_event_ids") or []})
    records = {str(r["id"]): r for r in with_history(
        rt, list(rt.store.get_many("audit_trail", ids).values()))}
    decided = {d["id"]: d for d in rt.store.get_many(
        DECISIONS, [str(f["id"]) for f in findings]).values()}
    return [{**f, "evidence": [records[i] for i in f.get("evidence_event_ids") or []
                               if i in records],
             "decision_version": int((decided.get(f["id"]) or {}).get("version") or 0)}
            for f in findings]


@router.get(f"{PREFIX}/compliance")
def compliance_page(request: Request, viewer: SignedIn,
                    state: Annotated[StateFilter, Query()] = "open") -> HTMLResponse:
    rt: Runtime = request.app.state.runtime
    grant = viewer.grant
    if not grant.roles & set(AUDIT):
        raise ProblemError(403, "findings are shown to leads, auditors and admins")
    summary = findings_summary(
        rt, team_scope(grant), now_iso(),
        visible=lambda f: may_see_record(grant, f.get("team_id")),
        select=lambda f: state == "all" or f.get("state") == state, limit=LIMIT)
    counts = {s: summary.states[s] for s in STATES[:-1]}
    counts["all"] = sum(summary.states.values())
    teams = {str(t["id"]): t.get("name") for t in visible_teams(rt, grant)}
    return page(request, "compliance.html", "Compliance findings", viewer=viewer,
                notice=notice_of(request), state=state, states=STATES, counts=counts,
                findings=with_evidence(rt, summary.first), more=summary.selected - LIMIT,
                team_names=teams, may_decide=bool(grant.roles & set(DECIDE)),
                here=f"{PREFIX}/compliance")
