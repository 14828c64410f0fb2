"""Action items in the distributed mode: the projector folds postmortems and their
follow-ups from Kafka into MongoDB exactly as a clean replay does, and the list's
queries (team, owner, status by due date, soonest first) answer from the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from domain.incidents import commands as ic
from domain.incidents.action_items import postmortem_item_id
from domain.incidents.service import IncidentService
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.teams import commands as tc
from domain.teams.service import TeamService
from infra.event_store.log import iter_envelopes
from infra.read_store.mongo import MongoReadStore
from infra.read_store.port import Range
from projections.views.action_items import COLLECTION
from tests.integration.test_projector import (
    assert_matches_oracle,
    create_topics,
    new_projector,
    produce,
    running,
    wait_caught_up,
)

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def followed_up() -> tuple[list[Any], dict[str, str]]:
    """Two incidents of one team, reviewed with two items each (canaries due
    2026-11-20, alerts 2026-12-20 and -21), then every kind of follow-up; the public
    events and the ids worth naming."""
    ledger = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    clock = iter(range(1, 1000))

    def ctx() -> CommandContext:
        now = START + timedelta(hours=next(clock))
        return CommandContext(CommandMeta("user:lead", now=now))

    teams, incidents = TeamService(ledger), IncidentService(ledger)
    team = teams.form(tc.FormTeam("Payments SRE"), ctx()).id
    ada = teams.add_member(tc.AddMember(team, "Ada", "ada@example.com", "SRE"), ctx()).id
    bob = teams.add_member(tc.AddMember(team, "Bob", "bob@example.com", "SRE"), ctx()).id
    ids: dict[str, str] = {"team": str(team), "ada": str(ada), "bob": str(bob)}
    for n, name in enumerate(("first", "second")):
        incident = incidents.open(ic.OpenIncident(team, "SEV2", "api", "5xx"), ctx()).id
        incidents.acknowledge(ic.Acknowledge(incident), ctx())
        incidents.resolve(ic.Resolve(incident, "rolled back"), ctx())
        incidents.publish_postmortem(ic.PublishPostmortem(incident, ["bad deploy"], [
            {"title": f"{name} canary", "owner_id": str(ada), "due": "2026-11-20"},
            {"title": f"{name} alert", "owner_id": str(bob), "due": f"2026-12-2{n}"},
        ]), ctx())
        ids[name] = str(incident)
    first, second = ids["first"], ids["second"]
    incidents.complete_action_item(ic.CompleteActionItem(
        first, postmortem_item_id(first, 1), "live", "https://tracker.example/1"), ctx())
    incidents.reassign_action_item(ic.ReassignActionItem(
        first, postmortem_item_id(first, 2), ada, "Bob is away"), ctx())
    incidents.reschedule_action_item(ic.RescheduleActionItem(
        second, postmortem_item_id(second, 1), "2026-12-01", "vendor late"), ctx())
    incidents.cancel_action_item(ic.CancelActionItem(
        second, postmortem_item_id(second, 2), "superseded"), ctx())
    ids["added"] = str(incidents.add_action_item(
        ic.AddActionItem(second, "docs", bob, "2026-12-10"), ctx()).id)
    events = list(iter_envelopes(ledger))
    ledger.close()
    return events, ids


def test_the_projector_folds_items_like_a_replay_and_the_list_queries_answer(
    servers: Any, mongo_db: str, topic_prefix: str,
) -> None:
    events, ids = followed_up()
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    projector = new_projector(servers, topics, mongo_db, group)
    with running(projector) as thread:
        produce(servers.kafka_bootstrap, topics, events)
        wait_caught_up(servers.kafka_bootstrap, topics, group, alive=thread.is_alive)

    assert_matches_oracle(servers.mongo_uri, mongo_db, events)
    store = MongoReadStore(servers.mongo_uri, mongo_db)
    try:
        def listed(**filters: Any) -> list[str]:
            found = store.find(COLLECTION, {"team_id": ids["team"], **filters},
                               order_by="due", limit=2)
            titles = [doc["title"] for doc in found.items]
            while found.next_cursor:
                found = store.find(COLLECTION, {"team_id": ids["team"], **filters},
                                   order_by="due", limit=2, cursor=found.next_cursor)
                titles += [doc["title"] for doc in found.items]
            return titles

        assert listed() == ["first canary", "second canary", "docs", "first alert",
                            "second alert"]
        on_dec_5 = {"status": "open"}
        assert listed(**on_dec_5, due=Range(lte="2026-12-04")) == ["second canary"]
        assert listed(**on_dec_5, due=Range(gte="2026-12-05")) == ["docs", "first alert"]
        assert listed(status="done") == ["first canary"]
        assert listed(status="cancelled") == ["second alert"]
        assert listed(owner_id=ids["ada"]) == ["first canary", "second canary", "first alert"]
        second_items = store.find(COLLECTION, {"incident_id": ids["second"]}, limit=10).items
        assert {doc["id"] for doc in second_items} >= {ids["added"]}
    finally:
        store.close()
