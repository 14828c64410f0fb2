"""The findings of the compliance controls as the API answers them: computed from the
read models of the token's teams (:func:`projections.compliance_controls.evaluate`),
then with their lifecycle (:func:`projections.finding_lifecycle.apply_decisions`).

Findings are never stored: the list computes all of the token's, and one finding
(``<control>:<subject id>[:<detail>]``) is computed from just the documents its id
names. A decision on a finding needs its facts as they stand now
(:class:`domain.compliance.finding.FindingFacts`), its evidence's actors included.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from domain.compliance.finding import FindingFacts
from domain.envelope import iso_time
from infra.auth import Grant
from infra.read_store.port import AnyOf
from projections import compliance_controls, finding_lifecycle, people_controls, risk_controls
from projections.compliance_controls import Finding
from projections.fold import Document
from projections.times import parse_time
from projections.views.finding_decisions import COLLECTION as DECISIONS
from services.api.bootstrap import Runtime
from services.api.deps import may_see_record
from services.api.problems import ProblemError
from services.api.queries import control_policies

INCIDENT_CONTROLS = frozenset({"ack_sla", "postmortem_overdue", "action_item_overdue"})
GOAL_CONTROLS = frozenset({"target_revised_after_deadline"})
RISK_CONTROLS = frozenset({"risk_review_overdue", "high_risk_untreated",
                           "risk_accepted_by_owner"})
PLAN_CONTROLS = frozenset({"plan_not_exercised"})
TRAINING_CONTROLS = frozenset({"training_overdue", "training_expired"})
POLICY_CONTROLS = frozenset({"policy_unacknowledged"})
AUDIT_CONTROLS = frozenset({"self_role_change", "backdated_entry"})
"""The controls whose finding ids end with the id of their audit record (its event)."""


def now_iso() -> str:
    return iso_time(datetime.now(UTC))


def evaluate_findings(rt: Runtime, scope: dict[str, object], now: str) -> list[Finding]:
    """Every finding on the teams of ``scope`` (:func:`services.api.deps.team_scope`),
    with its lifecycle, oldest first."""
    role_changes = list(rt.store.iter_find(
        "audit_trail", {"name": "RoleAssigned", **scope}, order_by="position"))
    found = _evaluate(
        rt, now, incidents=rt.store.iter_find("incidents", scope),
        goals=rt.store.iter_find("goals", scope), role_changes=role_changes,
        late_records=rt.store.iter_find(
            "audit_trail", {"recorded_late": True, **scope}, order_by="position"),
        risks=rt.store.iter_find("risks", scope),
        plans=rt.store.iter_find("contingency_plans", scope),
        trainings=rt.store.iter_find("trainings", scope),
        team_policies=rt.store.iter_find("policies", scope),
    )
    decided = {d["id"]: d for d in rt.store.iter_find(DECISIONS, scope)}
    return finding_lifecycle.apply_decisions(found, decided, now)


def one_finding(rt: Runtime, grant: Grant, finding_id: str, now: str) -> Finding:
    """The finding ``finding_id`` as the controls find it now, with its lifecycle; 404
    when they find none, or one of a team the token may not see."""
    control, _, rest = finding_id.partition(":")
    subject, _, detail = rest.partition(":")
    found: list[Finding] = []
    if control in INCIDENT_CONTROLS:
        found = _evaluate(rt, now, incidents=_present(rt.store.get("incidents", subject)))
    elif control in GOAL_CONTROLS:
        found = _evaluate(rt, now, goals=_present(rt.store.get("goals", subject)))
    elif control in RISK_CONTROLS:
        found = _evaluate(rt, now, risks=_present(rt.store.get("risks", subject)))
    elif control in PLAN_CONTROLS:
        plan = rt.store.get("contingency_plans", subject)
        covered = rt.store.get_many("risks", list(plan.get("risk_ids") or [])) if plan else {}
        found = _evaluate(rt, now, plans=_present(plan), risks=covered.values())
    elif control in TRAINING_CONTROLS:
        found = _evaluate(rt, now, trainings=_present(rt.store.get("trainings", subject)))
    elif control in POLICY_CONTROLS:
        found = _evaluate(rt, now, team_policies=_present(rt.store.get("policies", subject)))
    elif control in AUDIT_CONTROLS and detail:
        record = rt.store.get("audit_trail", detail)
        if control == "self_role_change" and record and record.get("name") == "RoleAssigned":
            found = _evaluate(rt, now, role_changes=[record])
        elif control == "backdated_entry" and record and record.get("recorded_late"):
            found = _evaluate(rt, now, late_records=[record])
    finding = next((f for f in found if f["id"] == finding_id), None)
    if finding is None or not may_see_record(grant, finding.get("team_id")):
        raise ProblemError(404, f"finding {finding_id} not found")
    decided = rt.store.get(DECISIONS, finding_id)
    [shown] = finding_lifecycle.apply_decisions(
        [finding], {finding_id: decided} if decided is not None else {}, now)
    return shown


def facts_of(rt: Runtime, finding: Finding) -> FindingFacts:
    """What a decision on ``finding`` is judged by, with the principals its evidence
    names: the actors of its evidence events, and the actor it names itself."""
    records = rt.store.get_many("audit_trail", list(finding["evidence_event_ids"]))
    actors = {str(r["actor"]) for r in records.values() if r.get("actor")}
    if finding.get("actor"):
        actors.add(str(finding["actor"]))
    return FindingFacts(
        finding_id=finding["id"], control=finding["control"],
        subject_id=finding["subject_id"], team_id=finding.get("team_id"),
        status=finding["status"], opened_at=parse_time(finding["opened_at"]),
        evidence_actors=frozenset(actors),
    )


def _present(doc: Document | None) -> list[Document]:
    return [doc] if doc is not None else []


def _evaluate(
    rt: Runtime, now: str, *, incidents: Iterable[Document] = (),
    goals: Iterable[Document] = (), role_changes: Iterable[Document] = (),
    late_records: Iterable[Document] = (), risks: Iterable[Document] = (),
    plans: Iterable[Document] = (), trainings: Iterable[Document] = (),
    team_policies: Iterable[Document] = (),
) -> list[Finding]:
    """The one call of the controls, with the policies in force (the settings' first
    versions and those added since): those of incidents, goals, teams and late entries,
    the risks context's (:mod:`projections.risk_controls`) and the people context's
    (:mod:`projections.people_controls`, judged over the members of their teams),
    oldest first."""
    changes, risk_docs = list(role_changes), list(risks)
    member_ids = sorted({
        member_id for r in changes
        if isinstance(member_id := (r.get("data") or {}).get("member_id"), str)
    } | {str(risk["owner_id"]) for risk in risk_docs if risk.get("owner_id")})
    members = rt.store.get_many("members", member_ids)
    policies = control_policies(rt)
    found: list[dict[str, Any]] = compliance_controls.evaluate(
        incidents=incidents, goals=goals, role_changes=changes, members=members.values(),
        now_iso=now, policies=policies, late_records=late_records,
    )
    found += risk_controls.evaluate(risk_docs, plans, members, parse_time(now), policies)
    training_docs, policy_docs = list(trainings), list(team_policies)
    teams = sorted({str(d["team_id"]) for d in (*training_docs, *policy_docs)})
    if teams:
        people = {m["id"]: m for m in rt.store.iter_find("members", {"team_id": AnyOf(teams)})}
        found += people_controls.evaluate(training_docs, policy_docs, people, parse_time(now),
                                          policies)
    return sorted(found, key=lambda f: (parse_time(f["opened_at"]), f["id"]))
