"""The findings list, evaluated a chunk of documents at a time and keeping only its page
(issue 15: the API's memory on a large store), answers exactly what evaluating every
document at once and sorting every finding answered: given a mixed history (the
golden demo's five weeks, every control, decisions, a control policy, with clones so
the chunks cut it anywhere, and plans covering risks of other teams), every page of
every filter, scope, limit and clock is the old evaluation's page."""

from __future__ import annotations

import copy
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from infra.read_store.port import AnyOf, Filters
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from projections import compliance_controls, people_controls, risk_controls
from projections.compliance_controls import Finding
from projections.control_policies import Policies
from projections.engine import fold_events
from projections.finding_lifecycle import apply_decisions
from projections.registry import ALL_FOLDS
from projections.times import parse_time
from services.api import compliance_findings
from services.api.bootstrap import Runtime
from services.api.compliance_findings import findings_page, first_of, order_of
from tests.unit.projections.golden import load_histories

NOWS = ("2026-01-01T00:00:00Z", "2026-12-01T18:00:00Z", "2027-06-01T00:00:00Z")
CLONED = ("incidents", "goals", "trainings", "policies", "risks")
CLONES = 3


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The demo history folded into an embedded store, each incident, goal, training,
    policy and risk there ``CLONES`` more times under other ids (the same facts: equal
    opening times, so the order falls to the ids)."""
    docs = fold_events(load_histories()["demo"], ALL_FOLDS, lambda c, i: None)
    for (collection, doc_id), doc in list(docs.items()):
        if collection in CLONED:
            for n in range(CLONES):
                clone = copy.deepcopy(doc)
                clone["id"] = f"{doc_id[:-2]}c{n}"
                if "_id" in clone:
                    clone["_id"] = clone["id"]
                docs[(collection, clone["id"])] = clone
    # A plan of each plan's team covering every risk, those of other teams too: a list
    # of some teams judges it by the risks of those teams only.
    risk_ids = sorted(i for c, i in docs if c == "risks")
    for (collection, doc_id), doc in list(docs.items()):
        if collection == "contingency_plans":
            wide = {**copy.deepcopy(doc), "id": f"{doc_id[:-2]}wd", "risk_ids": risk_ids}
            docs[(collection, wide["id"])] = wide
    store = SQLiteReadStore(tmp_path_factory.mktemp("findings") / "readmodels.sqlite")
    store.commit(docs, ("test", 1))
    return cast(Runtime, SimpleNamespace(store=store, settings=Settings()))


def old_evaluation(rt: Runtime, scope: Filters, now: str) -> list[Finding]:
    """The list as it was evaluated before: every document of the scope at once, every
    finding sorted (the code of commit 58f3cd5, restated)."""
    store = rt.store
    policies = Policies.of(rt.settings.control_thresholds(),
                           store.iter_find("control_policies", {}))
    changes = list(store.iter_find("audit_trail", {"name": "RoleAssigned", **scope},
                                   order_by="position"))
    risks = list(store.iter_find("risks", scope))
    member_ids = sorted({str((r.get("data") or {}).get("member_id")) for r in changes
                         if isinstance((r.get("data") or {}).get("member_id"), str)}
                        | {str(risk["owner_id"]) for risk in risks if risk.get("owner_id")})
    members = store.get_many("members", member_ids)
    found = compliance_controls.evaluate(
        incidents=store.iter_find("incidents", scope), goals=store.iter_find("goals", scope),
        role_changes=changes, members=members.values(), now_iso=now, policies=policies,
        late_records=store.iter_find("audit_trail", {"recorded_late": True, **scope},
                                     order_by="position"))
    found += risk_controls.evaluate(risks, store.iter_find("contingency_plans", scope),
                                    members, parse_time(now), policies)
    trainings = list(store.iter_find("trainings", scope))
    team_policies = list(store.iter_find("policies", scope))
    teams = sorted({str(d["team_id"]) for d in (*trainings, *team_policies)})
    if teams:
        people = {m["id"]: m for m in store.iter_find("members", {"team_id": AnyOf(teams)})}
        found += people_controls.evaluate(trainings, team_policies, people, parse_time(now),
                                          policies)
    found = sorted(found, key=lambda f: (parse_time(f["opened_at"]), f["id"]))
    decided = {d["id"]: d for d in store.iter_find("finding_decisions", scope)}
    return apply_decisions(found, decided, now)


def old_page(every: list[Finding], keep: Callable[[Finding], bool],
             after: tuple[datetime, str] | None, limit: int) -> tuple[list[Finding], bool]:
    selected = [f for f in every if keep(f) and (after is None or order_of(f) > after)]
    return selected[:limit], len(selected) > limit


def pages(rt: Runtime, scope: Filters, now: str, keep: Callable[[Finding], bool],
          limit: int, control: str | None) -> Iterator[tuple[tuple[datetime, str] | None,
                                                               list[Finding], bool]]:
    """Every page of the list, as a client follows its cursors: (after, items, more)."""
    after = None
    for _ in range(10_000):
        items, more = findings_page(rt, scope, now, keep=keep, after=after, limit=limit,
                                    control=control)
        yield after, items, more
        if not more:
            return
        after = order_of(items[-1])
    raise AssertionError("the cursors never ended")


def filters(control: str | None = None, status: str | None = None,
            state: str | None = None) -> Callable[[Finding], bool]:
    return lambda f: ((control is None or f["control"] == control)
                      and (status is None or f["status"] == status)
                      and (state is None or f["state"] == state))


def test_the_history_has_findings_of_most_controls_and_of_every_state(
        runtime: Runtime) -> None:
    every = old_evaluation(runtime, {}, NOWS[1])
    assert len({f["control"] for f in every}) >= 10
    assert {f["state"] for f in every} == {"open", "resolved", "waived", "risk_accepted"}
    assert len(every) > 150  # more than a few chunks and pages
    assert "plan_not_exercised" in {f["control"] for f in old_evaluation(runtime, {}, NOWS[-1])}


@pytest.mark.parametrize("chunk", [3, compliance_findings.CHUNK])
@pytest.mark.parametrize("now", NOWS)
@pytest.mark.parametrize("limit", [5, 60, 500])
def test_every_page_is_the_old_evaluations_page(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch, chunk: int, now: str,
        limit: int) -> None:
    monkeypatch.setattr(compliance_findings, "CHUNK", chunk)
    every = old_evaluation(runtime, {}, now)
    keep = filters()

    followed = list(pages(runtime, {}, now, keep, limit, None))

    for after, items, more in followed:
        assert (items, more) == old_page(every, keep, after, limit)
    assert [f for _, items, _ in followed for f in items] == every


def _team_scopes(rt: Runtime) -> list[Filters]:
    teams = sorted(str(t["id"]) for t in rt.store.iter_find("teams", {}))
    return [{"team_id": teams[0]}, {"team_id": AnyOf(teams[1:3])}, {"team_id": AnyOf([])}]


@pytest.mark.parametrize("now", NOWS[1:])
def test_every_filter_and_scope_pages_as_before(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch, now: str) -> None:
    monkeypatch.setattr(compliance_findings, "CHUNK", 5)
    controls = sorted({f["control"] for f in old_evaluation(runtime, {}, now)})
    cases: list[dict[str, Any]] = [
        *({"control": c} for c in [*controls, "no_such_control"]),
        {"status": "open"}, {"status": "resolved"},
        *({"state": s} for s in ("open", "resolved", "waived", "risk_accepted")),
        {"control": "action_item_overdue", "status": "open", "state": "open"},
    ]
    for scope in [{}, *_team_scopes(runtime)]:
        every = old_evaluation(runtime, scope, now)
        for case in cases:
            keep = filters(**case)
            for limit in (4, 50):
                for after, items, more in pages(runtime, scope, now, keep, limit,
                                                case.get("control")):
                    assert (items, more) == old_page(every, keep, after, limit), (scope, case)


def test_a_page_after_a_cursor_between_two_findings_starts_at_the_next(
        runtime: Runtime) -> None:
    every = old_evaluation(runtime, {}, NOWS[-1])
    middle = order_of(every[40])
    between = (middle[0], middle[1] + "\x00")  # after the 41st, before the 42nd

    items, _ = findings_page(runtime, {}, NOWS[-1], keep=filters(), after=between, limit=3)

    assert items == every[41:44]


class ReadsNoted(SQLiteReadStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.read: list[str] = []
        self.filters: list[tuple[str, Filters, str]] = []

    def find(self, collection: str, filters: Filters, **kw: Any) -> Any:
        self.read.append(collection)
        self.filters.append((collection, dict(filters), kw.get("order_by", "_id")))
        return super().find(collection, filters, **kw)


def test_a_list_of_several_teams_reads_each_team_in_id_order_off_its_index(
        runtime: Runtime) -> None:
    """A read of several teams in id order would be sorted again for every page."""
    store = ReadsNoted(Path(cast(SQLiteReadStore, runtime.store).path))
    rt = cast(Runtime, SimpleNamespace(store=store, settings=runtime.settings))
    teams = sorted(str(t["id"]) for t in runtime.store.iter_find("teams", {}))

    findings_page(rt, {"team_id": AnyOf([*teams, teams[0]])}, NOWS[-1], keep=filters(),
                  after=None, limit=50)

    judged = [(c, f, o) for c, f, o in store.filters
              if c in ("incidents", "goals", "audit_trail", "trainings", "policies")]
    assert {c for c, _, _ in judged} == {"incidents", "goals", "audit_trail", "trainings",
                                         "policies"}
    assert all(isinstance(f["team_id"], str) and o == "_id" for _, f, o in judged)
    first_pages = [(c, f["team_id"]) for c, f, _ in judged]
    assert sorted(t for c, t in first_pages if c == "incidents") == teams  # each once


def test_a_list_of_one_control_reads_only_the_documents_that_control_judges(
        runtime: Runtime, tmp_path: Path) -> None:
    store = ReadsNoted(Path(cast(SQLiteReadStore, runtime.store).path))
    rt = cast(Runtime, SimpleNamespace(store=store, settings=runtime.settings))

    items, _ = findings_page(rt, {}, NOWS[-1], keep=filters("backdated_entry"), after=None,
                             limit=50, control="backdated_entry")

    assert {f["control"] for f in items} == {"backdated_entry"}
    assert set(store.read) == {"audit_trail", "control_policies", "finding_decisions"}


def test_a_page_holds_only_about_its_own_findings_however_many_are_found() -> None:
    """20,000 findings of 2 kB each (40 MB) go by; a page of 50 keeps at most 102."""
    def found() -> Iterator[Finding]:
        for n in range(20_000):
            yield {"id": f"ack_sla:{(n * 7919) % 20_000:05d}", "control": "ack_sla",
                   "status": "open", "opened_at": f"2026-01-01T00:{n % 60:02d}:00Z",
                   "summary": "x" * 2000}

    tracemalloc.start()
    try:
        items, more = first_of(found(), {}, NOWS[-1], keep=filters(), after=None, limit=50)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert more and len(items) == 50
    assert [order_of(f) for f in items] == sorted(order_of(f) for f in items)
    assert items[0]["opened_at"] == "2026-01-01T00:00:00Z"
    assert peak < 2_000_000, f"{peak:,} bytes at the peak"


@pytest.mark.parametrize("now", NOWS[1:])
def test_the_consoles_summary_counts_and_selects_as_the_whole_list_did(
        runtime: Runtime, now: str) -> None:
    """The console's compliance page and overview: counts by state, open ones by
    control, and the first of a state, over the findings a viewer may see."""
    every = old_evaluation(runtime, {}, now)
    teams = sorted({str(f["team_id"]) for f in every if f.get("team_id")})
    visible = [f for f in every if f.get("team_id") != teams[0]]

    for state in ("open", "resolved", "all"):
        summary = compliance_findings.findings_summary(
            runtime, {}, now, visible=lambda f: f.get("team_id") != teams[0],
            select=lambda f, s=state: s == "all" or f["state"] == s, limit=7)
        chosen = [f for f in visible if state == "all" or f["state"] == state]

        assert summary.first == chosen[:7]
        assert summary.selected == len(chosen)
        assert summary.states == Counter(f["state"] for f in visible)
        assert summary.open_by_control == Counter(
            f["control"] for f in visible if f["state"] == "open")

    counted = compliance_findings.findings_summary(runtime, {}, now)  # the overview's
    assert counted.first == [] and counted.selected == len(every)
    assert counted.open_by_control == Counter(f["control"] for f in every
                                              if f["state"] == "open")


def test_the_consoles_summary_holds_only_its_first_findings(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """20,000 findings of 2 kB each (40 MB) go by; the summary keeps its 25."""
    def found(*_: object, **__: object) -> Iterator[Finding]:
        for n in range(20_000):
            yield {"id": f"ack_sla:{(n * 7919) % 20_000:05d}", "control": "ack_sla",
                   "status": "open", "opened_at": f"2026-01-01T00:{n % 60:02d}:00Z",
                   "summary": "x" * 2000}

    monkeypatch.setattr(compliance_findings, "iter_findings", found)
    rt = cast(Runtime, SimpleNamespace(store=SimpleNamespace(iter_find=lambda *a: iter(()))))
    tracemalloc.start()
    try:
        summary = compliance_findings.findings_summary(rt, {}, NOWS[-1], limit=25)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert summary.selected == 20_000 and len(summary.first) == 25
    assert summary.first[0]["opened_at"] == "2026-01-01T00:00:00Z"
    assert peak < 2_000_000, f"{peak:,} bytes at the peak"
