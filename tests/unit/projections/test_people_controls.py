"""The people context's controls, as specifications: given these events (folded into
the trainings, the policies and the members), then these findings as of a time."""

from __future__ import annotations

from typing import Any

from projections import people_controls
from projections.control_policies import Policies, PolicyVersion, Thresholds
from projections.fold import Document
from projections.times import parse_time
from tests.unit.projections.builders import ADA, BOB, TEAM, a_team, ev, project
from tests.unit.projections.test_people_views import (
    POLICY,
    TRAINING,
    acknowledged,
    assigned,
    completed,
    defined,
    published,
    superseded,
)


def findings(*events: Any, now: str, control: str, policies: Policies | None = None,
             ) -> list[Document]:
    store = project(*a_team(), *events)
    members = {m["id"]: m for m in store.all("members")}
    found = people_controls.evaluate(store.all("trainings"), store.all("policies"), members,
                                     parse_time(now), policies or Policies())
    return [f for f in found if f["control"] == control]


# -- training_overdue ---------------------------------------------------------------------


def test_a_training_not_done_by_its_due_date_is_overdue_from_the_next_day() -> None:
    events = (defined(), assigned(2, ADA, "2026-11-20", "2026-11-03T09:00:00Z"))
    on_the_day = findings(*events, now="2026-11-20T23:59:00Z", control="training_overdue")
    [finding] = findings(*events, now="2026-11-21T00:01:00Z", control="training_overdue")

    assert on_the_day == []
    assert (finding["id"], finding["status"], finding["opened_at"], finding["team_id"]) == (
        f"training_overdue:{TRAINING}:{ADA}:2026-11-20", "open", "2026-11-21T00:00:00Z", TEAM)


def test_a_late_completion_resolves_it_and_one_in_time_is_no_finding() -> None:
    late = findings(defined(), assigned(2, ADA, "2026-11-20", "2026-11-03T09:00:00Z"),
                    completed(3, ADA, "2026-11-25T09:00:00Z"), now="2026-12-01T00:00:00Z",
                    control="training_overdue")
    in_time = findings(defined(), assigned(2, ADA, "2026-11-20", "2026-11-03T09:00:00Z"),
                       completed(3, ADA, "2026-11-20T09:00:00Z"), now="2026-12-01T00:00:00Z",
                       control="training_overdue")

    assert [(f["status"], f["resolved_at"]) for f in late] == [
        ("resolved", "2026-11-25T09:00:00Z")]
    assert in_time == []


def test_a_member_who_left_the_team_is_not_judged() -> None:
    left = ev("teams", "MemberLeft", TEAM, 4, 4, "2026-11-10T09:00:00Z", member_id=ADA,
              reason="moved on")

    assert findings(defined(), assigned(2, ADA, "2026-11-20", "2026-11-03T09:00:00Z"), left,
                    now="2026-12-01T00:00:00Z", control="training_overdue") == []


# -- training_expired ---------------------------------------------------------------------


def test_a_completion_past_its_validity_is_expired_from_the_day_it_ends() -> None:
    events = (defined(valid=30), assigned(2, BOB, "2026-11-20", "2026-11-03T09:00:00Z"),
              completed(3, BOB, "2026-11-10T09:00:00Z"))
    before = findings(*events, now="2026-12-09T23:00:00Z", control="training_expired")
    [finding] = findings(*events, now="2026-12-10T01:00:00Z", control="training_expired")

    assert before == []
    assert (finding["id"], finding["status"], finding["opened_at"]) == (
        f"training_expired:{TRAINING}:{BOB}:2026-12-10", "open", "2026-12-10T00:00:00Z")


def test_a_renewal_resolves_an_expiry_and_a_training_valid_for_good_never_expires() -> None:
    renewed = findings(defined(valid=30), assigned(2, BOB, "2026-11-20", "2026-11-03T09:00:00Z"),
                       completed(3, BOB, "2026-11-10T09:00:00Z"),
                       assigned(4, BOB, "2026-12-31", "2026-12-11T09:00:00Z"),
                       completed(5, BOB, "2026-12-12T09:00:00Z"), now="2026-12-20T00:00:00Z",
                       control="training_expired")
    for_good = findings(defined(valid=None),
                        assigned(2, BOB, "2026-11-20", "2026-11-03T09:00:00Z"),
                        completed(3, BOB, "2026-11-10T09:00:00Z"), now="2036-01-01T00:00:00Z",
                        control="training_expired")

    assert [(f["status"], f["resolved_at"]) for f in renewed] == [
        ("resolved", "2026-12-12T09:00:00Z")]
    assert for_good == []


# -- policy_unacknowledged ----------------------------------------------------------------


def test_a_member_who_does_not_acknowledge_within_the_window_is_a_finding() -> None:
    events = (published(), acknowledged(2, ADA, "2026-11-05T09:00:00Z"))
    within = findings(*events, now="2026-11-17T08:00:00Z", control="policy_unacknowledged")
    [finding] = findings(*events, now="2026-11-17T10:00:00Z",
                         control="policy_unacknowledged")

    assert within == []
    assert (finding["id"], finding["status"], finding["opened_at"]) == (
        f"policy_unacknowledged:{POLICY}:{BOB}:1", "open", "2026-11-17T09:00:00Z")


def test_a_late_acknowledgement_or_a_newer_version_resolves_it() -> None:
    found = findings(published(), acknowledged(2, ADA, "2026-11-20T09:00:00Z"),
                     superseded(3, "2026-11-25T09:00:00Z"), now="2026-11-26T00:00:00Z",
                     control="policy_unacknowledged")

    assert [(f["id"].rsplit(":", 2)[1], f["status"], f["resolved_at"]) for f in found] == [
        (ADA, "resolved", "2026-11-20T09:00:00Z"), (BOB, "resolved", "2026-11-25T09:00:00Z")]


def test_the_window_starts_when_the_member_joined_if_later() -> None:
    newcomer = ev("teams", "MemberJoined", TEAM, 4, 4, "2026-11-15T09:00:00Z",
                  member_id="member-cy", name="Cy", email="cy@x.test", role="engineer",
                  responsibilities=[])
    def cys(now: str) -> list[str]:
        return [f["opened_at"] for f in findings(published(), newcomer, now=now,
                                                 control="policy_unacknowledged")
                if ":member-cy:" in f["id"]]

    assert cys("2026-11-20T00:00:00Z") == []  # Ada and Bob are late by then, Cy is not
    assert cys("2026-11-29T10:00:00Z") == ["2026-11-29T09:00:00Z"]


def test_the_window_in_force_when_the_version_was_published_judges() -> None:
    longer = Policies(Thresholds(), {"policy_unacknowledged": (PolicyVersion(
        2, {"acknowledge_days": 30}, parse_time("2026-11-01T00:00:00Z")),)})
    later = Policies(Thresholds(), {"policy_unacknowledged": (PolicyVersion(
        2, {"acknowledge_days": 30}, parse_time("2026-11-10T00:00:00Z")),)})

    assert findings(published(), now="2026-11-20T00:00:00Z",
                    control="policy_unacknowledged", policies=longer) == []
    assert len(findings(published(), now="2026-11-20T00:00:00Z",
                        control="policy_unacknowledged", policies=later)) == 2
