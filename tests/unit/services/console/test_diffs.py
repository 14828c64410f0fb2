"""What changed between two versions: states compared path by path."""

from __future__ import annotations

from services.console.diffs import Change, diff, flatten


def test_nested_states_are_flattened_to_paths() -> None:
    state = {"status": "open", "postmortem": {"causes": ["a", "b"]}, "responders": [],
             "timeline": [{"type": "IncidentOpened", "actor": "user:ada"}]}
    assert flatten(state) == {
        "status": "open", "postmortem.causes[0]": "a", "postmortem.causes[1]": "b",
        "responders": [], "timeline[0].type": "IncidentOpened",
        "timeline[0].actor": "user:ada"}


def test_a_changed_field_and_an_appended_entry() -> None:
    before = {"status": "open", "timeline": [{"type": "IncidentOpened"}]}
    after = {"status": "acknowledged",
             "timeline": [{"type": "IncidentOpened"}, {"type": "IncidentAcknowledged"}]}
    assert diff(before, after) == [
        Change("status", "changed", "open", "acknowledged"),
        Change("timeline[1].type", "added", None, "IncidentAcknowledged"),
    ]


def test_a_removed_field_comes_last() -> None:
    assert diff({"a": 1, "gone": True}, {"a": 2}) == [
        Change("a", "changed", 1, 2), Change("gone", "removed", True, None)]


def test_the_first_version_is_all_added() -> None:
    assert diff(None, {"status": "open"}) == [Change("status", "added", None, "open")]


def test_equal_states_have_no_change() -> None:
    state = {"a": {"b": [1, 2]}}
    assert diff(state, {"a": {"b": [1, 2]}}) == []


def test_a_list_emptied_is_each_item_removed_and_the_empty_list_added() -> None:
    assert diff({"r": ["x"]}, {"r": []}) == [
        Change("r", "added", None, []), Change("r[0]", "removed", "x", None)]
