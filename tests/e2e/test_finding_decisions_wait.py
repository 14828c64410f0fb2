"""A decision on a finding is judged by everything recorded before it: given read models
that lag behind the log, the decision waits until they include it (then answers), and
one that waits too long is a 503 with Retry-After that appends nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx

from domain.incidents import commands as ic
from domain.ledger import CommandContext
from domain.meta import CommandMeta
from domain.teams import commands as tc
from services.api.bootstrap import Runtime
from tests.e2e.test_read_your_writes import apply_everything, lagging_server, run, until


def an_unacknowledged_sev1(runtime: Runtime) -> str:
    """Recorded by someone else as it happened: a team a day ago, a SEV1 50 minutes ago
    (its ack_sla finding opened 35 minutes ago). Answers the finding id."""
    now = datetime.now(UTC)

    def by_max(minutes_ago: float) -> CommandContext:
        return CommandContext(CommandMeta(actor="user:max",
                                          now=now - timedelta(minutes=minutes_ago)))

    team = runtime.teams.form(tc.FormTeam("SRE"), by_max(24 * 60)).id
    incident = uuid4()
    runtime.incidents.open(ic.OpenIncident(team, "SEV1", "checkout", "down", incident),
                           by_max(50))
    return f"ack_sla:{incident}"


def test_a_decision_waits_for_the_read_models_to_include_the_finding(tmp_path: Path) -> None:
    runtime, app = lagging_server(tmp_path, embedded=True)
    finding_id = an_unacknowledged_sev1(runtime)

    async def scenario(client: httpx.AsyncClient) -> None:
        waiver = asyncio.create_task(client.post(
            f"/v1/compliance/findings/{finding_id}/waive", json={"reason": "pager outage"}))
        await until(lambda: runtime.waits == 1, "the decision waiting")
        assert not waiver.done()

        await asyncio.to_thread(apply_everything, runtime)

        answer = await asyncio.wait_for(waiver, 20)
        assert answer.status_code == 200, answer.text
        assert (answer.json()["finding_id"], answer.json()["state"]) == (finding_id, "waived")

    try:
        run(scenario, app)
    finally:
        runtime.close()


def test_a_decision_that_waits_too_long_is_503_and_appends_nothing(tmp_path: Path) -> None:
    runtime, app = lagging_server(tmp_path, embedded=True)
    runtime.settings = runtime.settings.model_copy(update={"min_position_timeout": 0.2})
    finding_id = an_unacknowledged_sev1(runtime)
    head = runtime.ledger.head_position()

    async def scenario(client: httpx.AsyncClient) -> None:
        answer = await client.post(f"/v1/compliance/findings/{finding_id}/waive",
                                   json={"reason": "pager outage"})
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "1"
        assert answer.headers["content-type"] == "application/problem+json"

    try:
        run(scenario, app)
        assert runtime.ledger.head_position() == head
    finally:
        runtime.close()
