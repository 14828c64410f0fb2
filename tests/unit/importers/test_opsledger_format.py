"""The ``opsledger`` import format, line by line: given a line, then the request it is
sent as (route, body, business time, idempotency key), or its refusal with its line
number; a bad line stops nothing else."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from domain.incidents.action_items import postmortem_item_id
from services.cli.importers.opsledger_commands import COMMANDS
from services.cli.importers.opsledger_format import map_line, read_lines
from services.cli.importers.plan import Request, entity_id

DOC = Path(__file__).resolve().parents[3] / "docs" / "IMPORT.md"


def line(**fields: Any) -> str:
    return json.dumps({"source_id": "acme:1", "occurred_at": "2024-03-01T10:00:00+01:00",
                       **fields})


def request_of(text: str) -> Request:
    unit = map_line(1, text)
    assert unit.refusal is None, unit.refusal
    [request] = unit.requests
    return request


def refusal_of(text: str) -> str:
    unit = map_line(7, text)
    assert unit.requests == [] and unit.where == "line 7"
    assert unit.refusal
    return unit.refusal


def test_a_line_is_its_route_with_references_as_stable_ids_and_its_business_time() -> None:
    request = request_of(line(command="incident.assign", incident="INC-42",
                              responder="ada", body={}))

    incident = entity_id("opsledger", "incident", "INC-42")
    assert (request.method, request.path) == ("POST", f"/v1/incidents/{incident}/assign")
    assert request.body == {"responder_id": entity_id("opsledger", "member", "ada"),
                            "occurred_at": "2024-03-01T09:00:00Z"}
    assert request.key == "import:opsledger:acme:1"
    assert (request.kind, request.where) == ("incident.assign", "line 1")
    assert request.legend == (f"INC-42 is incident {incident}, "
                              f"ada is member {request.body['responder_id']}")
    UUID(incident)  # a uuid5, of the source's id


def test_the_same_line_is_the_same_request_and_a_uuid_reference_is_used_as_it_is() -> None:
    team = str(uuid4())
    text = line(command="incident.open", incident="INC-42", team=team,
                body={"severity": "SEV2", "service": "db", "summary": "disk full"})

    first, again = request_of(text), request_of(text)

    assert first == again
    assert first.body["team_id"] == team
    assert first.body["incident_id"] == entity_id("opsledger", "incident", "INC-42")
    assert first.body["severity"] == "SEV2"  # the rest of the body as it is


def test_references_of_two_roles_name_one_entity_when_their_source_ids_match() -> None:
    moved = request_of(line(command="member.move", team="sre", member="ada", to_team="dba",
                            body={"reason": "re-org"}))
    formed = request_of(line(command="team.form", team="dba", body={"name": "DBA"}))

    assert moved.body["to_team_id"] == formed.body["team_id"]


def test_a_postmortems_action_item_names_its_owner_by_source_id() -> None:
    request = request_of(line(command="incident.postmortem", incident="INC-42", body={
        "causes": ["no alert on disk"],
        "action_items": [{"title": "alert at 80%", "owner": "ada", "due": "2024-04-01"}]}))

    assert request.body["action_items"] == [{
        "title": "alert at 80%", "owner_id": entity_id("opsledger", "member", "ada"),
        "due": "2024-04-01"}]


def test_a_follow_up_names_a_postmortems_item_by_its_place_and_goes_to_its_derived_id() -> None:
    request = request_of(line(command="action_item.complete", incident="INC-42",
                              postmortem_item=2, body={"note": "runbook merged"}))

    incident = entity_id("opsledger", "incident", "INC-42")
    item = postmortem_item_id(incident, 2)
    assert request.path == f"/v1/incidents/{incident}/action-items/{item}/complete"
    assert request.body == {"note": "runbook merged", "occurred_at": "2024-03-01T09:00:00Z"}
    assert f"postmortem_item 2 is action_item {item}" in request.legend


def test_an_item_added_after_the_postmortem_is_named_by_its_source_id_then_followed_up() -> None:
    added = request_of(line(command="action_item.add", incident="INC-42",
                            action_item="ACME-77", owner="ada",
                            body={"title": "alert at 80%", "due": "2024-04-01"}))
    moved = request_of(line(command="action_item.reassign", incident="INC-42",
                            action_item="ACME-77", owner="bob", body={"reason": "re-org"}))

    incident = entity_id("opsledger", "incident", "INC-42")
    item = entity_id("opsledger", "action_item", "ACME-77")
    assert added.path == f"/v1/incidents/{incident}/action-items"
    assert added.body["item_id"] == item
    assert added.body["owner_id"] == entity_id("opsledger", "member", "ada")
    assert moved.path == f"/v1/incidents/{incident}/action-items/{item}/reassign"
    assert moved.body["owner_id"] == entity_id("opsledger", "member", "bob")


@pytest.mark.parametrize(("text", "reason"), [
    ("{not json", "not JSON"),
    ("[1, 2]", "not a JSON object"),
    (line(command="incident.escalat", incident="x"),
     "unknown command 'incident.escalat' (did you mean incident.escalate? the commands are in "
     "docs/IMPORT.md)"),
    (json.dumps({"occurred_at": "2024-03-01T09:00:00Z", "command": "team.form", "team": "t"}),
     "no source_id"),
    (json.dumps({"source_id": "a", "command": "team.form", "team": "t"}), "no occurred_at"),
    (line(command="team.form", team="t", occurred_at="2024-03-01T09:00:00"), "has no offset"),
    (line(command="team.form", team="t", occurred_at="yesterday"), "not an RFC 3339 time"),
    (line(command="team.form", team="t", goal="g"), "team.form takes no goal"),
    (line(command="incident.assign", incident="i"), "needs the reference(s) responder"),
    (line(command="incident.open", incident="i", team="t", body={"team_id": "x"}),
     "body.team_id: name the team with the reference 'team'"),
    (line(command="incident.note", incident="i", body={"occurred_at": "x"}),
     "occurred_at belongs at the top of the line"),
    (line(command="incident.note", incident="", body={"text": "x"}),
     "incident must be the source's id"),
    (line(command="incident.note", incident="i", body=["x"]), "body is not a JSON object"),
    (line(command="action_item.cancel", incident="i", body={"reason": "x"}),
     "needs the reference(s) action_item (or postmortem_item)"),
    (line(command="action_item.cancel", incident="i", postmortem_item=0),
     "postmortem_item must be the item's place"),
    (line(command="action_item.cancel", incident="i", postmortem_item="2"),
     "postmortem_item must be the item's place"),
    (line(command="action_item.due", incident="i", postmortem_item=1, action_item="a"),
     "by action_item or by postmortem_item, not both"),
    (line(command="action_item.add", incident="i", postmortem_item=1, owner="o"),
     "action_item.add takes no postmortem_item"),
])
def test_a_malformed_line_is_refused_with_why(text: str, reason: str) -> None:
    assert reason in refusal_of(text)


def test_a_bad_line_stops_nothing_else_and_line_numbers_count_every_line() -> None:
    lines = [
        "# a comment",
        line(command="team.form", team="sre", body={"name": "SRE"}),
        "",
        "{oops",
        line(command="team.lead", team="sre", member="ada", body={"reason": "formed"}),
    ]

    units = read_lines(lines)

    assert [(u.where, u.refusal is None) for u in units] == [
        ("line 2", True), ("line 4", False), ("line 5", True)]


def test_every_command_is_documented_in_docs_import_md_with_its_route() -> None:
    text = DOC.read_text()
    documented = dict(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| `POST ([^`]+)`", text, re.M))

    assert set(documented) == set(COMMANDS)
    for name, command in COMMANDS.items():
        assert documented[name] == command.path, name
