"""A retention run over HTTP: erase the personal data whose retention period is over
(the periods are the server's settings, ``OPSLEDGER_RETENTION_*_DAYS``) and answer what
was due, erased, held and refused. An admin of every team only: customers' feedback
spans teams, and a run looks at every subject. Each erasure is recorded with the
token's principal as its actor and a reason naming the kind and the period."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from domain.meta import utcnow
from domain.privacy.retention import COUNTED_FROM
from infra.event_store import key_store
from infra.personal.retention import RetentionRun
from services.api.deps import Admin, CaughtUp, CommandCtx, RuntimeDep
from services.api.models.privacy import RetentionReport, RetentionRunBody
from services.api.problems import ProblemError

router = APIRouter(tags=["privacy"])


@router.post("/v1/retention/run", response_model=RetentionReport)
def run_retention(body: RetentionRunBody, grant: Admin, ctx: CommandCtx, rt: RuntimeDep,
                  _: CaughtUp) -> dict[str, Any]:
    """Erase what is due, at most ``limit`` subjects (``remaining``: left for the next
    call); ``dry_run``: list what is due and erase nothing. Subjects under a legal hold
    are skipped and named with the hold. ``403``: a token limited to some teams."""
    if ctx.scoped:
        raise ProblemError(403, f"{grant.principal} is limited to some teams; a retention "
                                "run looks at every team's data subjects")
    keys = key_store(rt.ledger)
    if rt.erasures is None or keys is None:  # pragma: no cover - served ledgers have keys
        raise ProblemError(409, "this ledger keeps no personal data keys: nothing to erase")
    now = utcnow()
    run = RetentionRun(rt.erasures, rt.sealed_store, keys, rt.settings.retention_periods(), now)
    reports = run.run(ctx, dry_run=body.dry_run, limit=body.limit)
    return {"dry_run": body.dry_run, "at": now.isoformat(),
            "kinds": [{**asdict(r), "counted_from": COUNTED_FROM[r.kind]} for r in reports]}
