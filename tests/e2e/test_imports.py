"""Declared backfills over HTTP: an admin opens an import run, commands sent with
``OpsLedger-Import-Run`` may carry any past ``occurred_at``, finishing answers and
records the counts; outside a run, an entry recorded over the tolerance late is
accepted and is a ``backdated_entry`` finding with both times and the actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from tests.e2e.conftest import Api

RUN_HEADER = "OpsLedger-Import-Run"


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def open_run(api: Api) -> dict[str, Any]:
    return api.post("/v1/imports", {"source": "pagerduty export", "reason": "bring 2024 in"},
                    expect=201).json()


def in_run(run: str) -> dict[str, str]:
    return {RUN_HEADER: run}


def backdated(api: Api, position: int) -> list[dict[str, Any]]:
    items = api.as_("auditor").get("/v1/compliance/findings", control="backdated_entry",
                                   min_position=position)["items"]
    return list(items)


def test_an_admin_opens_and_finishes_an_import_run_with_its_counts(api: Api) -> None:
    opened = open_run(api)
    run = opened["import_run_id"]
    assert opened["id"] == run and opened["version"] == 1
    long_ago = ago(90 * 24 * 60)
    team = api.post("/v1/teams", {"name": "SRE", "occurred_at": long_ago}, expect=201,
                    **in_run(run)).json()
    api.post("/v1/incidents", {"team_id": team["id"], "severity": "SEV2", "service": "db",
                               "summary": "disk full", "occurred_at": ago(60 * 24 * 60)},
             expect=201, **in_run(run))
    api.team("Not imported")

    finished = api.post(f"/v1/imports/{run}/finish", expect=200).json()

    assert (finished["import_run_id"], finished["events_recorded"]) == (run, 2)
    assert finished["by_context"] == {"incidents": 1, "teams": 1}
    shown = api.as_("auditor").get(f"/v1/imports/{run}")
    assert (shown["opened_by"], shown["status"], shown["source"]) == (
        "user:admin", "finished", "pagerduty export")
    trail = api.as_("auditor").get("/v1/audit", entity_id=run,
                                   min_position=finished["position"])["items"]
    assert [(r["name"], r["actor"]) for r in trail] == [
        ("ImportRunOpened", "user:admin"), ("ImportRunFinished", "user:admin")]
    assert trail[0]["data"]["source"] == "pagerduty export"
    assert trail[1]["data"]["events_recorded"] == 2
    imported = api.as_("auditor").get("/v1/audit", entity_id=team["id"])["items"]
    assert imported[0]["import_run_id"] == run
    assert backdated(api, finished["position"]) == []  # declared: no finding


def test_only_an_admin_opens_or_finishes_a_run(api: Api) -> None:
    run = open_run(api)["import_run_id"]
    api.as_("lead").post("/v1/imports", {"source": "csv", "reason": "why"}, expect=403)
    api.as_("lead").post(f"/v1/imports/{run}/finish", expect=403)


def test_an_unknown_or_finished_run_is_a_clear_problem_that_appends_nothing(api: Api) -> None:
    head = api.head()
    unknown = api.post("/v1/teams", {"name": "SRE", "occurred_at": ago(600)},
                       **in_run(str(uuid4())))
    assert unknown.status_code == 422, unknown.text
    assert "does not exist" in unknown.json()["detail"]
    assert api.head() == head

    run = open_run(api)["import_run_id"]
    api.post(f"/v1/imports/{run}/finish", expect=200)
    head = api.head()
    finished = api.post("/v1/teams", {"name": "SRE", "occurred_at": ago(600)}, **in_run(run))
    assert finished.status_code == 409, finished.text
    assert "is finished" in finished.json()["detail"]
    again = api.post(f"/v1/imports/{run}/finish")
    assert again.status_code == 409, again.text
    assert api.head() == head
    api.post(f"/v1/imports/{uuid4()}/finish", expect=404)


def test_a_late_entry_outside_a_run_is_accepted_and_found(api: Api) -> None:
    run = open_run(api)["import_run_id"]
    team = api.post("/v1/teams", {"name": "SRE", "occurred_at": ago(24 * 60)}, expect=201,
                    **in_run(run)).json()["id"]
    incident = api.as_("member").post("/v1/incidents", {
        "team_id": team, "severity": "SEV3", "service": "checkout", "summary": "slow",
        "occurred_at": ago(180)}, expect=201).json()

    [finding] = backdated(api, incident["position"])

    assert (finding["subject_id"], finding["team_id"], finding["actor"]) == (
        incident["id"], team, "user:max")
    assert finding["status"] == "open" and finding["recorded_at"] > finding["occurred_at"]
    assert len(finding["evidence_event_ids"]) == 1
    # Within the tolerance (default 60 minutes): nothing.
    api.post(f"/v1/incidents/{incident['id']}/acknowledge", {"occurred_at": ago(30)},
             expect=200)
    assert len(backdated(api, api.head())) == 1
