"""Decisions on findings from the compliance page: waive, accept as a risk. The same
finding decision service and the same rules as ``POST /v1/compliance/findings/{id}/
waive`` and ``.../accept-risk``: auditors and admins only, never a principal the
finding's evidence names, and first the read models must include everything recorded
before the decision (503, retry shortly, if not in time), so it is judged by the facts
as they stand.

``If-Match`` is the version of the finding's decisions the page showed (0 before
any): a first decision creates the finding's record, which the ledger does not
compare, so the console compares it with the decisions as they stand now, and passes
it on for every later decision, which the ledger compares in the same save.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from domain.compliance import finding_commands as fc
from domain.compliance.finding import FindingFacts
from domain.envelope import moment_of
from domain.errors import StaleVersionError
from domain.ledger import CommandContext
from projections.views.finding_decisions import COLLECTION as DECISIONS
from services.api.bootstrap import Runtime
from services.api.compliance_findings import facts_of, now_iso, one_finding
from services.api.deps import DECIDE, caught_up
from services.api.models.compliance import FindingAcceptRisk, FindingWaive
from services.console.actions.commands import (
    body_of,
    context_of,
    optional,
    run,
    utc_of_local,
    version_of,
)
from services.console.auth import CheckedPost, Posted
from services.console.rendering import PREFIX

router = APIRouter(include_in_schema=False)

FindingId = Annotated[str, Path(max_length=200)]
FINDING = f"{PREFIX}/compliance/findings/{{finding_id}}"


def decision_version(rt: Runtime, finding_id: str) -> int:
    """The version of the finding's decisions (its aggregate's; 0 before any)."""
    decided = rt.store.get(DECISIONS, finding_id)
    return int(decided.get("version") or 0) if decided else 0


def check_first_decision(rt: Runtime, posted: Posted, finding_id: str) -> None:
    """A page made before any decision (version 0) is stale once one was made."""
    seen = version_of(posted)
    if seen == 0 and (current := decision_version(rt, finding_id)) != 0:
        raise StaleVersionError(0, current)


async def decide(request: Request, finding_id: str, posted: Posted, notice: str,
                 command: Callable[[Runtime, FindingFacts, CommandContext], object]
                 ) -> Response:
    """The decision ``command`` on the finding as its facts stand once the read models
    are caught up, with the page's version compared first."""
    rt: Runtime = request.app.state.runtime
    ctx = await context_of(request, posted, DECIDE)
    await caught_up(request)

    def run_it() -> object:
        check_first_decision(rt, posted, finding_id)
        facts = facts_of(rt, one_finding(rt, posted.viewer.grant, finding_id, now_iso()))
        return command(rt, facts, ctx)

    return await run(request, posted, "finding", notice, run_it)


@router.post(f"{FINDING}/waive")
async def waive(request: Request, finding_id: FindingId, posted: CheckedPost) -> Response:
    body = body_of(FindingWaive, {"reason": posted.form.get("reason", ""),
                                  "until": utc_of_local(optional(posted.form, "until"))})
    until = moment_of(body.until) if body.until is not None else None
    return await decide(request, finding_id, posted, "waived", lambda rt, facts, ctx:
                        rt.findings.waive(fc.WaiveFinding(finding_id, body.reason, until),
                                          facts, ctx))


@router.post(f"{FINDING}/accept-risk")
async def accept_risk(request: Request, finding_id: FindingId,
                      posted: CheckedPost) -> Response:
    body = body_of(FindingAcceptRisk, {"reason": posted.form.get("reason", ""),
                                       "until": utc_of_local(optional(posted.form, "until"))})
    command = fc.AcceptFindingRisk(finding_id, body.reason, moment_of(body.until))
    return await decide(request, finding_id, posted, "risk-accepted", lambda rt, facts, ctx:
                        rt.findings.accept_risk(command, facts, ctx))
