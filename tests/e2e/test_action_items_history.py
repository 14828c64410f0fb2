"""Action items in the ledger's history: a store holding postmortems published before
items had ids (the event is unchanged, so any postmortem is one) and their follow-ups
verifies, and folds from nothing to exactly the live read models, ids included."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID

import pytest

from domain.incidents import commands as ic
from domain.incidents.action_items import postmortem_item_id
from domain.ledger import CommandContext
from domain.meta import CommandMeta, utcnow
from domain.teams import commands as tc
from infra.event_store import key_store
from infra.event_store.log import iter_envelopes
from infra.personal.reveal import revealing
from infra.projecting.replay import replay
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from services.api.bootstrap import Runtime
from tests.e2e.test_auditor_tools import TOKENS, cli, snapshot


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime.open(Settings(data_dir=tmp_path / "data", tokens=TOKENS))
    yield rt
    rt.close()


def test_a_store_with_followed_up_items_verifies_and_refolds_to_the_same_ids(
    runtime: Runtime, tmp_path: Path,
) -> None:
    start = utcnow() - timedelta(days=30)

    def at(hours: float) -> CommandContext:
        return CommandContext(CommandMeta("user:lead", occurred_at=start + timedelta(hours=hours)))

    team = runtime.teams.form(tc.FormTeam("Payments SRE"), at(0)).id
    ada = runtime.teams.add_member(tc.AddMember(team, "Ada", "ada@example.com", "SRE"), at(0)).id
    incident = runtime.incidents.open(ic.OpenIncident(team, "SEV2", "api", "5xx"), at(1)).id
    runtime.incidents.acknowledge(ic.Acknowledge(incident), at(1.1))
    runtime.incidents.resolve(ic.Resolve(incident, "rolled back"), at(2))
    runtime.incidents.publish_postmortem(ic.PublishPostmortem(incident, ["bad deploy"], [
        {"title": "Canary", "owner_id": str(ada), "due": (start + timedelta(days=2)).date()},
        {"title": "Alert", "owner_id": str(ada), "due": (start + timedelta(days=60)).date()},
    ]), at(3))
    canary = UUID(postmortem_item_id(incident, 1))
    runtime.incidents.complete_action_item(
        ic.CompleteActionItem(incident, canary, "shipped", "https://tracker.example/1"), at(90))
    runtime.incidents.add_action_item(
        ic.AddActionItem(incident, "Docs", ada, (utcnow() + timedelta(days=3)).date().isoformat()),
        at(91))
    assert runtime.wait_for(runtime.ledger.head_position(), 10)

    assert cli("verify", data_dir=runtime.settings.data_dir).stdout.startswith("OK:")
    again = SQLiteReadStore(tmp_path / "again.sqlite")
    replay(iter_envelopes(runtime.ledger), again)
    live = snapshot(runtime.store)  # type: ignore[arg-type]
    assert snapshot(revealing(again, key_store(runtime.ledger))) == live  # type: ignore[arg-type]
    listed = {doc["id"]: doc["status"] for doc in live["action_items"]}
    assert listed[str(canary)] == "done"
    assert listed[postmortem_item_id(incident, 2)] == "open"
    assert len(listed) == 3
