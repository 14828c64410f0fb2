"""Personal data at rest: stored sealed under its subject's key, so the event store, its
WAL, the read models and the events feed hold ciphertext; the API answers and exports
show the plaintext; the chain verifies; and events stored before sealing still load."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import orjson
from fastapi.testclient import TestClient

from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.aggregate import Team
from domain.teams.service import TeamService
from infra.audit.verify import verify_store
from infra.contract.cloudevents import cloudevent_of_audit_record
from infra.event_store import chained, ledger_env
from infra.event_store.hash_chain import canonical_bytes, link
from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import TOKENS, Api


def _raw_bytes(folder: Path, *names: str) -> bytes:
    """Every byte of the named SQLite files, with their WAL and journal."""
    found = b""
    for name in names:
        for path in folder.glob(f"{name}*"):
            found += path.read_bytes()
    return found


def _people(api: Api) -> tuple[str, str, str, str, str]:
    marker = uuid4().hex[:10]
    name, email = f"Zed Q{marker}", f"zed.{marker}@example.org"
    team = api.team()
    member = api.post(f"/v1/teams/{team}/members",
                      {"name": name, "email": email, "role": "SRE"}, expect=201).json()
    peer = api.post("/v1/feedback", {"kind": "peer", "team_id": team,
                                     "subject_member_id": member["id"],
                                     "text": f"calm in incident {marker}"}, expect=201).json()
    api.post("/v1/feedback", {"kind": "customer", "team_id": team, "text": f"slow {marker}",
                              "customer": {"name": f"Cy {marker}",
                                           "email": f"cy.{marker}@example.net"}},
             expect=201)
    api.get("/v1/events", after=0, limit=1, min_position=api.head())
    return marker, team, member["id"], peer["id"], name


def test_personal_data_is_stored_and_folded_sealed_and_answered_in_plaintext(
    api: Api, settings: Settings,
) -> None:
    marker, _, member_id, peer_id, name = _people(api)
    assert api.get(f"/v1/members/{member_id}", min_position=api.head())["name"] == name
    assert api.get(f"/v1/feedback/{peer_id}")["text"] == f"calm in incident {marker}"
    timeline = api.get(f"/v1/performance/members/{member_id}/timeline")["items"]
    assert any(name in orjson.dumps(e).decode() for e in timeline)

    on_disk = _raw_bytes(settings.data_dir, "events.sqlite", "readmodels.sqlite")
    assert marker.encode() not in on_disk
    assert b"pii:v1:member:" + member_id.encode() in on_disk
    assert b"pii:v1:customer:" in on_disk


def test_the_events_feed_carries_what_is_stored_and_the_chain_covers_it(
    api: Api, settings: Settings,
) -> None:
    marker, *_ = _people(api)
    feed = api.get("/v1/events", after=0, limit=100)["items"]
    joined = next(e for e in feed if e["type"] == "opsledger.teams.MemberJoined.v1")
    assert joined["data"]["name"].startswith("pii:v1:member:")
    assert marker not in orjson.dumps(feed).decode()
    prev = "0" * 64
    for event in feed:
        prev = link(prev, canonical_bytes(event))
        assert prev == event["hash"]


def test_an_exported_record_shows_plaintext_and_still_rehashes_to_its_chain_link(
    api: Api,
) -> None:
    _, _, member_id, _, name = _people(api)
    export = api.client.get("/v1/audit/export", params={"format": "jsonl"},
                            headers=api.headers)
    assert export.status_code == 200, export.text
    lines = export.content.splitlines()
    records = [orjson.loads(line) for line in lines]
    joined = next(r for r in records if r["type"] == "opsledger.teams.MemberJoined.v1")
    assert joined["data"]["name"] == name
    assert joined["sealed"]["name"].startswith(f"pii:v1:member:{member_id}:")
    # What an auditor re-hashes: the record with its sealed values put back.
    ce = cloudevent_of_audit_record(joined)
    assert link(ce["prevhash"], canonical_bytes(ce)) == joined["hash"]


def test_events_stored_before_sealing_hold_plaintext_and_still_load_fold_and_verify(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data", tokens=orjson.dumps(TOKENS).decode())
    before = Ledger(env=ledger_env(settings))  # a mapper with no keys: as before sealing
    teams = TeamService(chained(before))
    team = teams.form(tc.FormTeam("SRE"), CommandContext(CommandMeta("user:admin")))
    joined = teams.add_member(tc.AddMember(team.id, "Old Timer", "old@example.org", "SRE"),
                              CommandContext(CommandMeta("user:admin")))
    before.close()
    assert b"Old Timer" in settings.event_store_path.read_bytes()

    with TestClient(create_app(settings)) as client:
        api = Api(client)
        member = api.get(f"/v1/members/{joined.id}", min_position=api.head())
        assert (member["name"], member["email"]) == ("Old Timer", "old@example.org")
        api.post(f"/v1/teams/{team.id}/members/{joined.id}/role",
                 {"role": "Lead SRE", "reason": "promotion"}, expect=200)
        ledger = client.app.state.runtime.ledger  # type: ignore[attr-defined]
        assert ledger.load(Team, team.id).members[str(joined.id)]["name"] == "Old Timer"
        assert verify_store(ledger).ok
