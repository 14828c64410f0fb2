"""The console pages' own rules: both times shown only where they differ, form times
typed in UTC, the heat map's bands and grid, the training matrix's status words and
the check-in's number."""

from __future__ import annotations

import pytest

from services.console.actions.commands import utc_of_local
from services.console.pages.goals import number_of
from services.console.pages.incident import differ
from services.console.pages.risks import band, grid
from services.console.pages.trainings import status_of
from services.console.rendering import when_exact


def test_both_times_are_shown_where_they_differ_by_a_second_or_more() -> None:
    assert differ("2026-11-03T14:05:00Z", "2026-11-03T14:30:00Z")
    assert not differ("2026-11-03T14:05:00.100Z", "2026-11-03T14:05:00.700Z")
    assert not differ("2026-11-03T14:05:00Z", None)  # folded before recorded_at existed
    assert not differ("not a time", "2026-11-03T14:05:00Z")


@pytest.mark.parametrize(("typed", "sent"), [
    ("2026-12-31T14:00", "2026-12-31T14:00:00Z"),
    ("2026-12-31T14:00:30", "2026-12-31T14:00:30Z"),
    ("2026-12-31T14:00:00+01:00", "2026-12-31T14:00:00+01:00"),
    ("2026-12-31T14:00:00Z", "2026-12-31T14:00:00Z"),
    ("  ", None), (None, None),
])
def test_a_typed_time_is_utc_unless_it_says_otherwise(typed: str | None,
                                                      sent: str | None) -> None:
    assert utc_of_local(typed) == sent


@pytest.mark.parametrize(("score", "name"), [
    (1, "low"), (4, "low"), (5, "medium"), (9, "medium"), (10, "high"), (16, "high"),
    (20, "severe"), (25, "severe")])
def test_the_heat_maps_bands(score: int, name: str) -> None:
    assert band(score) == name


def test_the_grid_has_likelihood_five_at_the_top_and_impact_one_first() -> None:
    cells = [{"likelihood": lk, "impact": im, "score": lk * im, "inherent": 0,
              "residual": 0} for lk in range(1, 6) for im in range(1, 6)]
    rows = grid(cells)
    assert [r["likelihood"] for r in rows] == [5, 4, 3, 2, 1]
    assert [c["impact"] for c in rows[0]["cells"]] == [1, 2, 3, 4, 5]
    assert rows[0]["cells"][4]["band"] == "severe" and rows[4]["cells"][0]["band"] == "low"


@pytest.mark.parametrize(("cell", "status"), [
    ({"assigned": True, "done": True, "expired": True, "overdue": False}, "expired"),
    ({"assigned": True, "done": True, "expired": False, "overdue": False}, "done"),
    ({"assigned": True, "done": False, "expired": False, "overdue": True}, "overdue"),
    ({"assigned": True, "done": False, "expired": False, "overdue": False}, "due"),
    ({"assigned": False, "done": False, "expired": False, "overdue": False}, "not-assigned"),
])
def test_a_training_cells_status_word(cell: dict[str, bool], status: str) -> None:
    assert status_of(cell) == status


def test_a_typed_number_with_a_decimal_comma_and_a_word_left_for_the_model() -> None:
    assert number_of(" 12,5 ") == 12.5
    assert number_of("75") == 75.0
    assert number_of("lots") == "lots"


def test_a_timelines_times_are_shown_to_the_second() -> None:
    assert when_exact("2026-11-03T14:10:07.123456Z") == "2026-11-03 14:10:07 UTC"
    assert when_exact("2026-11-03T15:10:07+01:00") == "2026-11-03 14:10:07 UTC"
    assert when_exact("2026-11-03") == "2026-11-03"
    assert when_exact(None) == "\N{EN DASH}"
