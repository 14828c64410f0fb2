"""Control policies: every control with its thresholds in force and every version, and
adding a version (admin). A fact is judged by the version in force when it happened,
so a new version never re-judges the past (:mod:`domain.compliance.policy`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response

from domain.compliance import policy_commands as c
from domain.compliance.policy import CONTROLS, policy_id
from domain.envelope import moment_of
from projections.control_policies import SETTINGS_PRINCIPAL, SETTINGS_VERSION, Policies
from services.api.deps import Admin, Auditor, CommandCtx, Fresh, RuntimeDep
from services.api.models.common import answer
from services.api.models.controls import (
    ControlsPublic,
    ControlThresholdsAnswer,
    ControlThresholdsSet,
)

router = APIRouter(tags=["compliance"])

SETTINGS_REASON = "the deployment's settings (OPSLEDGER_* variables)"


@router.get("/v1/compliance/controls")
def controls(_: Auditor, rt: RuntimeDep, __: Fresh) -> ControlsPublic:
    """Every control, with its thresholds in force now and every version of its policy
    (version 1 from the settings), oldest first."""
    documents = list(rt.store.iter_find("control_policies", {}))
    policies = Policies.of(rt.settings.control_thresholds(), documents)
    stored = {doc["control"]: doc for doc in documents}
    now = datetime.now(UTC)
    items = []
    for control in CONTROLS:
        settings_version: dict[str, Any] = {
            "version": SETTINGS_VERSION, "thresholds": policies.baseline.of(control),
            "effective_from": None, "by": SETTINGS_PRINCIPAL, "recorded_at": None,
            "reason": SETTINGS_REASON,
        }
        added = sorted((stored.get(control) or {}).get("versions") or [],
                       key=lambda v: int(v["version"]))
        in_force = policies.version_at(control, now)
        items.append({
            "control": control, "policy_id": str(policy_id(control)),
            "thresholds": dict(in_force.thresholds), "version_in_force": in_force.version,
            "versions": [settings_version, *added],
        })
    return ControlsPublic.model_validate({"items": items})


@router.put("/v1/compliance/controls/{control}")
def set_thresholds(control: Annotated[str, Path(max_length=100)], body: ControlThresholdsSet,
                   _: Admin, ctx: CommandCtx, rt: RuntimeDep,
                   response: Response) -> ControlThresholdsAnswer:
    """Add a version of the control's policy: these thresholds judge what happens from
    ``effective_from`` on; what happened before keeps the version it had."""
    result = rt.policies.set_thresholds(c.SetControlThresholds(
        control, dict(body.thresholds), moment_of(body.effective_from), body.reason), ctx)
    # The policy's first event is version 2 (the settings' is 1): one more than the stream.
    return ControlThresholdsAnswer(**answer(result, response).model_dump(), control=control,
                                   policy_version=result.version + 1)

