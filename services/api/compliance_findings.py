"""The findings of the compliance controls as the API answers them: computed from the
read models of the token's teams (:func:`projections.compliance_controls.evaluate`),
then with their lifecycle (:func:`projections.finding_lifecycle.apply_decisions`).

Findings are never stored (they depend on the clock and on policies that change): the
list evaluates the token's documents a chunk at a time (:func:`iter_findings`) and
keeps only what its page needs (:func:`findings_page`; the console's counts and first
findings likewise, :func:`findings_summary`), so neither every document nor every
finding is held at once; one finding (``<control>:<subject id>[:<detail>]``) is
computed from just the documents its id names. A decision on a finding needs its facts
as they stand now (:class:`domain.compliance.finding.FindingFacts`), its evidence's
actors included.
"""

from __future__ import annotations

import heapq
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from operator import itemgetter
from typing import Any

from domain.compliance.finding import FindingFacts
from domain.envelope import iso_time
from infra.auth import Grant
from infra.read_store.port import AnyOf, Filters
from projections import compliance_controls, finding_lifecycle, people_controls, risk_controls
from projections.compliance_controls import Finding
from projections.control_policies import Policies
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
SELF_ROLE = frozenset({"self_role_change"})
BACKDATED = frozenset({"backdated_entry"})
AUDIT_CONTROLS = SELF_ROLE | BACKDATED
"""The controls whose finding ids end with the id of their audit record (its event)."""


CHUNK = 200
"""Documents evaluated at a time by the list (a chunk of incidents is a few MB)."""

Key = tuple[datetime, str, int]
"""Where a finding sits in the list: opening time, id, then its place in the
evaluation (a stable sort's tie-break, for two findings of one document with one id
and time)."""


def now_iso() -> str:
    return iso_time(datetime.now(UTC))


def order_of(finding: Finding) -> tuple[datetime, str]:
    """The list's order: opening time, then id."""
    return parse_time(finding["opened_at"]), finding["id"]


def iter_findings(rt: Runtime, scope: Filters, now: str,
                  control: str | None = None) -> Iterator[Finding]:
    """Every finding on the teams of ``scope`` (:func:`services.api.deps.team_scope`),
    without its lifecycle, in the order of evaluation (not the list's): the documents
    are read and judged :data:`CHUNK` at a time, team by team, each in id order (so
    every page is read off an index, never sorted). In which order documents come
    does not change the list: a finding's id names its document (and its audit
    record), so findings of two documents never tie. With ``control``, only the
    documents that control looks at are read (the findings of other controls still
    come)."""
    policies = control_policies(rt)

    def read(controls: frozenset[str], collection: str,
             selected: Filters | None = None) -> Iterator[list[Document]]:
        if control is not None and control not in controls:
            return
        for team in _by_team(scope):
            yield from _chunks(rt.store.iter_find(collection, {**(selected or {}), **team},
                                                  chunk=CHUNK))

    def judge(**documents: Any) -> list[Finding]:
        return _judge(rt, now, policies, **documents)

    for chunk in read(INCIDENT_CONTROLS, "incidents"):
        yield from judge(incidents=chunk)
    for chunk in read(GOAL_CONTROLS, "goals"):
        yield from judge(goals=chunk)
    for chunk in read(SELF_ROLE, "audit_trail", {"name": "RoleAssigned"}):
        yield from judge(role_changes=chunk)
    for chunk in read(BACKDATED, "audit_trail", {"recorded_late": True}):
        yield from judge(late_records=chunk)
    for chunk in read(RISK_CONTROLS, "risks"):
        yield from judge(risks=chunk)
    for chunk in read(PLAN_CONTROLS, "contingency_plans"):
        # A plan is judged by the risks it covers that are within the scope.
        ids = sorted({str(i) for plan in chunk for i in plan.get("risk_ids") or []})
        covered = rt.store.iter_find("risks", {**scope, "_id": AnyOf(ids)}) if ids else ()
        yield from judge(plans=chunk, plan_risks={risk["id"]: risk for risk in covered})
    for chunk in read(TRAINING_CONTROLS, "trainings"):
        yield from judge(trainings=chunk)
    for chunk in read(POLICY_CONTROLS, "policies"):
        yield from judge(team_policies=chunk)


def findings_page(rt: Runtime, scope: Filters, now: str, *, keep: Callable[[Finding], bool],
                  after: tuple[datetime, str] | None, limit: int,
                  control: str | None = None) -> tuple[list[Finding], bool]:
    """A page of the list: the first ``limit`` findings on the teams of ``scope`` (with
    their lifecycle) after ``after`` in the list's order that ``keep`` keeps
    (``control``: only that control can be kept), and whether more follow."""
    decided = _decisions(rt, scope)
    return first_of(iter_findings(rt, scope, now, control), decided, now, keep=keep,
                    after=after, limit=limit)


def first_of(findings: Iterable[Finding], decided: Mapping[str, Document], now: str, *,
             keep: Callable[[Finding], bool], after: tuple[datetime, str] | None,
             limit: int) -> tuple[list[Finding], bool]:
    """The first ``limit`` of ``findings`` in the list's order (a stable sort's: equal
    keys in the order given) after ``after``, with their lifecycle (``decided``: the
    decisions by finding id), that ``keep`` keeps; and whether more follow. Holds at
    most ``2 * (limit + 1)`` of them at a time: every so often the best ``limit + 1``
    are kept, and one that comes after the last of those is dropped at once."""
    at = parse_time(now)
    best: list[tuple[datetime, str, int, Finding]] = []
    bound: Key | None = None
    by_key = itemgetter(0, 1, 2)
    for n, finding in enumerate(findings):
        key = (*order_of(finding), n)
        if (after is not None and key[:2] <= after) or (bound is not None and key > bound):
            continue
        shown = _shown(finding, decided, at)
        if not keep(shown):
            continue
        best.append((*key, shown))
        if len(best) > 2 * (limit + 1):
            best.sort(key=by_key)
            del best[limit + 1:]
            bound = by_key(best[-1])
    best.sort(key=by_key)
    return [entry[3] for entry in best[:limit]], len(best) > limit


@dataclass(frozen=True)
class Summary:
    """What the console's pages show of the findings: how many are in each state, the
    open ones by control, and the first of those a page selects."""

    states: Counter[str]
    open_by_control: Counter[str]
    first: list[Finding]
    selected: int
    """How many the page selects in all (``first`` is at most its limit of them)."""


def findings_summary(rt: Runtime, scope: Filters, now: str, *,
                     visible: Callable[[Finding], bool] = lambda _: True,
                     select: Callable[[Finding], bool] = lambda _: True,
                     limit: int = 0) -> Summary:
    """The findings on the teams of ``scope`` that ``visible`` lets through, counted
    (with their lifecycle), and the first ``limit`` that ``select`` selects, oldest
    first: in one pass, holding ``limit`` of them at a time, not the whole list (the
    console on a large store, as the API's pages: :func:`first_of`)."""
    decided = _decisions(rt, scope)
    at = parse_time(now)
    states: Counter[str] = Counter()
    open_by_control: Counter[str] = Counter()
    selected = 0

    def chosen() -> Iterator[Finding]:
        nonlocal selected
        for finding in iter_findings(rt, scope, now):
            shown = _shown(finding, decided, at)
            if not visible(shown):
                continue
            states[str(shown.get("state"))] += 1
            if shown.get("state") == "open":
                open_by_control[str(shown["control"])] += 1
            if select(shown):
                selected += 1
                yield shown

    # nsmallest is sorted(...)[:limit], ties kept in the order given, with limit held
    found = chosen()
    first = heapq.nsmallest(limit, found, key=order_of)
    deque(found, maxlen=0)  # counted to the end: with no limit, nsmallest reads nothing
    return Summary(states, open_by_control, first, selected)


def one_finding(rt: Runtime, grant: Grant, finding_id: str, now: str) -> Finding:
    """The finding ``finding_id`` as the controls find it now, with its lifecycle; 404
    when they find none, or one of a team the token may not see."""
    control, _, rest = finding_id.partition(":")
    subject, _, detail = rest.partition(":")
    policies = control_policies(rt)
    found: list[Finding] = []

    def judge(**documents: Any) -> list[Finding]:
        return _judge(rt, now, policies, **documents)

    if control in INCIDENT_CONTROLS:
        found = judge(incidents=_present(rt.store.get("incidents", subject)))
    elif control in GOAL_CONTROLS:
        found = judge(goals=_present(rt.store.get("goals", subject)))
    elif control in RISK_CONTROLS:
        found = judge(risks=_present(rt.store.get("risks", subject)))
    elif control in PLAN_CONTROLS:
        plan = rt.store.get("contingency_plans", subject)
        covered = rt.store.get_many("risks", list(plan.get("risk_ids") or [])) if plan else {}
        found = judge(plans=_present(plan), plan_risks=covered)
    elif control in TRAINING_CONTROLS:
        found = judge(trainings=_present(rt.store.get("trainings", subject)))
    elif control in POLICY_CONTROLS:
        found = judge(team_policies=_present(rt.store.get("policies", subject)))
    elif control in AUDIT_CONTROLS and detail:
        record = rt.store.get("audit_trail", detail)
        if control == "self_role_change" and record and record.get("name") == "RoleAssigned":
            found = judge(role_changes=[record])
        elif control == "backdated_entry" and record and record.get("recorded_late"):
            found = judge(late_records=[record])
    finding = next((f for f in sorted(found, key=order_of) if f["id"] == finding_id), None)
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


def _decisions(rt: Runtime, scope: Filters) -> dict[str, Document]:
    """The decisions on findings of the teams of ``scope``, by finding id."""
    return {d["id"]: d for d in rt.store.iter_find(DECISIONS, scope)}


def _shown(finding: Finding, decided: Mapping[str, Document], at: datetime) -> Finding:
    """``finding`` with its lifecycle, as the list and the console show it."""
    return {**finding, **finding_lifecycle.lifecycle(finding, decided.get(finding["id"]), at)}


def _present(doc: Document | None) -> list[Document]:
    return [doc] if doc is not None else []


def _by_team(scope: Filters) -> list[Filters]:
    """``scope`` as filters of one team each (those of an :class:`AnyOf`, once each): a
    read of several teams in id order would sort all of them again for every page."""
    teams = scope.get("team_id")
    if not isinstance(teams, AnyOf):
        return [scope]
    return [{**scope, "team_id": team} for team in dict.fromkeys(teams.present())]


def _chunks(docs: Iterable[Document]) -> Iterator[list[Document]]:
    it = iter(docs)
    while chunk := list(islice(it, CHUNK)):
        yield chunk


def _judge(
    rt: Runtime, now: str, policies: Policies, *, incidents: Iterable[Document] = (),
    goals: Iterable[Document] = (), role_changes: Iterable[Document] = (),
    late_records: Iterable[Document] = (), risks: Iterable[Document] = (),
    plans: Iterable[Document] = (), plan_risks: Mapping[str, Document] | None = None,
    trainings: Iterable[Document] = (), team_policies: Iterable[Document] = (),
) -> list[Finding]:
    """The one call of the controls, with the ``policies`` in force (the settings' first
    versions and those added since): those of incidents, goals, teams and late entries,
    the risks context's (:mod:`projections.risk_controls`; plans by ``plan_risks``,
    else by ``risks``) and the people context's (:mod:`projections.people_controls`,
    judged over the members of their teams), in that order, each context's oldest
    first (the list's order is the caller's)."""
    changes, risk_docs = list(role_changes), list(risks)
    member_ids = sorted({
        member_id for r in changes
        if isinstance(member_id := (r.get("data") or {}).get("member_id"), str)
    } | {str(risk["owner_id"]) for risk in risk_docs if risk.get("owner_id")})
    members = rt.store.get_many("members", member_ids)
    at = parse_time(now)
    found: list[dict[str, Any]] = compliance_controls.evaluate(
        incidents=incidents, goals=goals, role_changes=changes, members=members.values(),
        now_iso=now, policies=policies, late_records=late_records,
    )
    found += risk_controls.evaluate(risk_docs, (), members, at, policies)
    covered = plan_risks if plan_risks is not None else {r["id"]: r for r in risk_docs}
    for plan in plans:
        found += risk_controls.plan_not_exercised(plan, covered, at, policies)
    training_docs, policy_docs = list(trainings), list(team_policies)
    teams = sorted({str(d["team_id"]) for d in (*training_docs, *policy_docs)})
    if teams:
        people = {m["id"]: m for m in rt.store.iter_find("members", {"team_id": AnyOf(teams)})}
        found += people_controls.evaluate(training_docs, policy_docs, people, at, policies)
    return found
