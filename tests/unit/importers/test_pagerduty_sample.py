"""The made-up PagerDuty export (benchmarks/pagerduty_sample.py): the same for the same
seed, every incident mappable once its roster is in OpsLedger, and unknown people in
it on purpose."""

from __future__ import annotations

import json

from benchmarks.pagerduty_sample import ROSTER, TEAM, pagerduty_export, roster_lines
from services.cli.importers.opsledger_format import read_lines
from services.cli.importers.pagerduty import Directory, map_incident, team_name_key
from services.cli.importers.pagerduty_file import read_export


def test_the_same_seed_makes_the_same_export_and_another_seed_another() -> None:
    assert pagerduty_export(30, seed=7) == pagerduty_export(30, seed=7)
    assert pagerduty_export(30, seed=7) != pagerduty_export(30, seed=8)


def test_every_sample_incident_maps_once_its_roster_is_imported() -> None:
    roster = read_lines([json.dumps(line) for line in roster_lines()])
    assert all(unit.refusal is None for unit in roster)
    team_id = roster[0].requests[0].body["team_id"]
    members = {unit.requests[0].body["email"]: unit.requests[0].body["member_id"]
               for unit in roster[1:]}
    export = read_export(json.dumps(pagerduty_export(200, seed=7)))
    directory = Directory(teams_by_name={team_name_key(TEAM): [team_id]},
                          members_by_email=members, emails_by_user=export.emails_by_user)

    units = [map_incident(n, i, directory) for n, i in enumerate(export.incidents)]

    assert len(units) == 200 and all(u.refusal is None for u in units)
    assert sorted(members) == sorted(email for _, email in ROSTER)
    unknown = {p.who for u in units for p in u.unknown_people}
    assert unknown == {"Casey Contractor <casey@contractor.example>", "Pat Nomail"}
    kinds = {r.kind for u in units for r in u.requests}
    assert kinds == {"open", "acknowledge", "assign", "note", "resolve"}
