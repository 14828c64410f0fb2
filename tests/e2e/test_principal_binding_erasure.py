"""The principal bound to a member is the member's personal data, as specifications:
it is sealed wherever events are stored or published (on joining, on a later binding
and in the write-side directory), the API shows it while the key exists, the rules
that compare principals still hold, and after an erasure it reads "[erased]"."""

from __future__ import annotations

import sqlite3
from uuid import uuid4

from domain.personal import ERASED
from infra.personal.sealing import is_sealed
from infra.settings import Settings
from tests.e2e.conftest import Api

JOINED, BOUND = "opsledger.teams.MemberJoined.v1", "opsledger.teams.PrincipalBound.v1"


def _bound_member(api: Api) -> tuple[str, str, str, str]:
    """A member who joined as one principal and was bound to another later."""
    marker = uuid4().hex[:12]
    first, second = f"user:first-{marker}", f"user:second-{marker}"
    team = api.team()
    member = api.post(f"/v1/teams/{team}/members", {
        "name": f"Bo {marker}", "email": f"bo.{marker}@example.org", "role": "SRE",
        "principal": first}, expect=201).json()["id"]
    api.post(f"/v1/members/{member}/principal", {"principal": second, "reason": "renamed"},
             expect=200)
    return member, marker, first, second


def _published(api: Api, wire_type: str, member: str) -> dict[str, object]:
    items = api.get("/v1/events", after=0, limit=500)["items"]
    return next(e["data"] for e in items
                if e["type"] == wire_type and e["data"]["member_id"] == member)


def test_the_binding_is_sealed_on_the_feed_and_in_every_stored_event(
    api: Api, settings: Settings
) -> None:
    member, marker, _, _ = _bound_member(api)
    joined, bound = _published(api, JOINED, member), _published(api, BOUND, member)
    assert is_sealed(joined["principal"])
    assert is_sealed(bound["principal"]) and is_sealed(bound["previous_principal"])
    with sqlite3.connect(settings.data_dir / "events.sqlite") as db:
        stored = b"".join(row[0] for row in db.execute("SELECT state FROM stored_events"))
    assert marker.encode() not in stored  # team events and directory records alike


def test_the_api_shows_the_binding_while_the_key_exists(api: Api) -> None:
    member, _, first, second = _bound_member(api)
    assert api.get(f"/v1/members/{member}", min_position=api.head())["principal"] == second
    audit = api.as_("auditor").get("/v1/audit", limit=500)["items"]
    bound = next(a for a in audit if a["name"] == "PrincipalBound"
                 and a["data"]["member_id"] == member)
    assert (bound["data"]["principal"], bound["data"]["previous_principal"]) == (second, first)


def test_the_directory_still_keeps_one_active_member_per_principal(api: Api) -> None:
    member, _, _, second = _bound_member(api)
    other = api.member(api.team())
    refused = api.post(f"/v1/members/{other}/principal",
                       {"principal": second, "reason": "mistake"})
    assert refused.status_code == 409, refused.text
    assert member in refused.json()["detail"]


def test_after_an_erasure_the_binding_reads_erased(api: Api) -> None:
    member, _, _, _ = _bound_member(api)
    api.post(f"/v1/members/{member}/erase", {"reason": "asked"}, expect=201)
    assert api.get(f"/v1/members/{member}", min_position=api.head())["principal"] == ERASED
    audit = api.as_("auditor").get("/v1/audit", limit=500)["items"]
    of_member = [a["data"] for a in audit if a["data"].get("member_id") == member
                 and a["name"] in {"MemberJoined", "PrincipalBound"}]
    assert [d["principal"] for d in of_member] == [ERASED, ERASED]
    assert of_member[1]["previous_principal"] == ERASED
