"""A team's figures per period, as specifications: given these documents, then these rows."""

from __future__ import annotations

import pytest

from projections.team_metrics import period_of, summary, team_metrics

FIGURES = ("period", "incidents_opened", "mtta_seconds", "mttr_seconds", "goals_closed",
           "goals_achieved", "goal_attainment_pct", "feedback_count", "feedback_avg_score")
"""The figures a row had before the incident times' summaries (they are kept)."""

# -- metrics per period ---------------------------------------------------------------


def incident(opened: str, acked: str | None, resolved: str | None,
             mtta: float | None, mttr: float | None) -> dict:
    return {"opened_at": opened, "acknowledged_at": acked, "resolved_at": resolved,
            "mtta_seconds": mtta, "mttr_seconds": mttr}


def test_period_of_names_iso_weeks_and_months() -> None:
    assert period_of("2026-11-23T10:00:00Z", "week") == "2026-W48"
    assert period_of("2026-11-23T10:00:00Z", "month") == "2026-11"
    assert period_of("2027-01-01T10:00:00Z", "week") == "2026-W53"
    assert period_of("2026-11-30T23:30:00-02:00", "month") == "2026-12"


def test_team_metrics_count_each_thing_in_the_period_it_happened() -> None:
    incidents = [
        # opened Sunday of W48, acknowledged and resolved Monday of W49
        incident("2026-11-29T23:50:00Z", "2026-11-30T00:10:00Z", "2026-11-30T01:50:00Z",
                 1200.0, 7200.0),
        incident("2026-11-30T10:00:00Z", "2026-11-30T10:10:00Z", None, 600.0, None),
        incident("2026-12-01T10:00:00Z", None, None, None, None),
    ]
    goals = [
        {"status": "achieved", "closed_at": "2026-11-24T10:00:00Z"},
        {"status": "missed", "closed_at": "2026-11-25T10:00:00Z"},
        {"status": "abandoned", "closed_at": "2026-11-26T10:00:00Z"},
        {"status": "open", "closed_at": None},
    ]
    feedback = [
        {"received_at": "2026-11-23T10:00:00Z", "score": 8},
        {"received_at": "2026-11-24T10:00:00Z", "score": 5},
        {"received_at": "2026-11-25T10:00:00Z", "score": None},
    ]

    rows = team_metrics(incidents, goals, feedback, "week")
    assert [{key: row[key] for key in FIGURES} for row in rows] == [
        {"period": "2026-W48", "incidents_opened": 1, "mtta_seconds": None,
         "mttr_seconds": None, "goals_closed": 3, "goals_achieved": 1,
         "goal_attainment_pct": 33.3, "feedback_count": 3, "feedback_avg_score": 6.5},
        {"period": "2026-W49", "incidents_opened": 2, "mtta_seconds": 900.0,
         "mttr_seconds": 7200.0, "goals_closed": 0, "goals_achieved": 0,
         "goal_attainment_pct": None, "feedback_count": 0, "feedback_avg_score": None},
    ]
    by_month = team_metrics(incidents, goals, feedback, "month")
    assert [(m["period"], m["incidents_opened"], m["mtta_seconds"]) for m in by_month] == [
        ("2026-11", 2, 900.0), ("2026-12", 1, None),
    ]


def test_team_metrics_without_data_are_empty_and_periods_are_checked() -> None:
    assert team_metrics([], [], [], "month") == []
    with pytest.raises(ValueError, match="period"):
        team_metrics([], [], [], "year")  # type: ignore[arg-type]


# -- the incident times: count, mean, median, p90 -------------------------------------


def timed(opened: str, **times: float) -> dict:
    """An incident opened at ``opened`` whose every stage ended then too (one period)."""
    moments = {"opened_at": opened, "acknowledged_at": opened, "mitigated_at": opened,
               "resolved_at": opened}
    return {**moments, **{f"time_to_{name}_seconds": value for name, value in times.items()}}


def test_summary_gives_count_mean_median_and_the_nearest_rank_p90() -> None:
    assert summary([60.0] * 9 + [3600.0]) == {
        "count": 10, "mean": 414.0, "median": 60.0, "p90": 60.0}
    assert summary([60.0] * 8 + [3600.0] * 2) == {
        "count": 10, "mean": 768.0, "median": 60.0, "p90": 3600.0}
    assert summary([30.0, 90.0]) == {"count": 2, "mean": 60.0, "median": 60.0, "p90": 90.0}
    assert summary([42.0]) == {"count": 1, "mean": 42.0, "median": 42.0, "p90": 42.0}
    assert summary([]) == {"count": 0, "mean": None, "median": None, "p90": None}


def test_each_incident_time_is_summarised_per_period() -> None:
    incidents = [
        timed("2026-11-23T10:00:00Z", detect=600.0, acknowledge=120.0, mitigate=900.0,
              resolve=3600.0),
        timed("2026-11-24T10:00:00Z", acknowledge=180.0, resolve=7200.0),
        timed("2026-11-25T10:00:00Z", acknowledge=3000.0),
    ]

    (row,) = team_metrics(incidents, [], [], "week")

    assert {key: row[key] for key in (
        "time_to_detect_seconds", "time_to_acknowledge_seconds", "time_to_mitigate_seconds",
        "time_to_resolve_seconds")} == {
        "time_to_detect_seconds": {"count": 1, "mean": 600.0, "median": 600.0, "p90": 600.0},
        "time_to_acknowledge_seconds": {
            "count": 3, "mean": 1100.0, "median": 180.0, "p90": 3000.0},
        "time_to_mitigate_seconds": {"count": 1, "mean": 900.0, "median": 900.0, "p90": 900.0},
        "time_to_resolve_seconds": {
            "count": 2, "mean": 5400.0, "median": 5400.0, "p90": 7200.0},
    }


def test_each_time_counts_in_the_period_its_stage_ended() -> None:
    incident = {"opened_at": "2026-11-29T23:50:00Z", "acknowledged_at": "2026-11-30T00:10:00Z",
                "resolved_at": "2026-12-02T08:00:00Z", "time_to_detect_seconds": 300.0,
                "time_to_acknowledge_seconds": 1500.0, "time_to_resolve_seconds": 202_500.0}

    rows = team_metrics([incident], [], [], "week")

    assert [(r["period"], r["time_to_detect_seconds"]["count"],
             r["time_to_acknowledge_seconds"]["count"], r["time_to_resolve_seconds"]["count"])
            for r in rows] == [("2026-W48", 1, 0, 0), ("2026-W49", 0, 1, 1)]


def test_a_duplicate_is_left_out_of_the_metrics() -> None:
    original = timed("2026-11-23T10:00:00Z", acknowledge=120.0)
    duplicate = {**timed("2026-11-23T10:05:00Z", acknowledge=0.0),
                 "duplicate_of": "incident-1", "mtta_seconds": 0.0}

    (row,) = team_metrics([original, duplicate], [], [], "week")

    assert (row["incidents_opened"], row["mtta_seconds"]) == (1, None)
    assert row["time_to_acknowledge_seconds"]["count"] == 1


def test_a_period_without_incident_times_has_empty_summaries() -> None:
    (row,) = team_metrics([], [{"status": "achieved", "closed_at": "2026-11-24T10:00:00Z"}],
                          [], "week")

    assert row["time_to_resolve_seconds"] == {
        "count": 0, "mean": None, "median": None, "p90": None}
    assert row["goal_attainment_pct"] == 100.0
