"""``min_position`` waits: refused at once beyond the head, awaited without holding a
worker thread, bounded in number, and never in the way of ``/healthz``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from infra.projecting.follower import EmbeddedFollower
from infra.settings import Settings
from projections.registry import ALL_FOLDS
from services.api.app import create_app
from services.api.bootstrap import Runtime
from tests.e2e.conftest import Api

TOKEN = "ryw-admin-token-0123456789"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
WAITS = 60  # more than AnyIO's 40 worker threads


def test_a_position_beyond_the_head_is_409_at_once(api: Api) -> None:
    head = api.post("/v1/teams", {"name": "SRE"}, expect=201).json()["position"]
    r = api.client.get("/v1/teams", params={"min_position": 10**30}, headers=api.headers)
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["detail"] == (
        f"position {10**30} is beyond the head {head}; it cannot be waited for")
    assert r.json()["head"] == head
    assert api.client.get("/v1/teams", params={"min_position": head + 1},
                          headers=api.headers).status_code == 409
    assert api.get("/v1/teams", min_position=head)["items"][0]["name"] == "SRE"


# -- a server whose read models lag on purpose -----------------------------------------

def lagging_server(tmp_path: Path, *, embedded: bool, **settings: Any) -> tuple[Runtime, FastAPI]:
    """The follower (embedded) or the projector (distributed) moves only when the test
    says so: every wait for a new position stays pending until then."""
    config = Settings(data_dir=tmp_path / "data", min_position_timeout=60.0, tokens=json.dumps(
        {TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}}), **settings)
    runtime = Runtime.open(config, follow=False)
    if embedded:  # a follower that is never started: it applies on catch_up() only
        runtime.follower = EmbeddedFollower(runtime.ledger, runtime.sealed_store, ALL_FOLDS)
    return runtime, create_app(config, runtime=runtime)


def apply_everything(runtime: Runtime) -> None:
    if runtime.follower is not None:
        runtime.follower.catch_up()
    else:  # what a projector does: the read models (and their audit records) appear
        EmbeddedFollower(runtime.ledger, runtime.sealed_store, ALL_FOLDS).catch_up()


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(6000):  # up to a minute on a loaded machine; usually a few polls
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def run(scenario: Callable[[httpx.AsyncClient], Awaitable[None]], app: FastAPI) -> None:
    async def main() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://opsledger",
                                     headers=ADMIN, timeout=60) as client:
            await scenario(client)
    asyncio.run(main())


@pytest.fixture(params=["embedded", "distributed"])
def lagging(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Runtime, FastAPI]]:
    runtime, app = lagging_server(tmp_path, embedded=request.param == "embedded",
                                  min_position_max_waiters=WAITS)
    yield runtime, app
    runtime.close()


def test_waits_hold_no_worker_thread_and_healthz_answers_while_they_are_pending(
        lagging: tuple[Runtime, FastAPI]) -> None:
    runtime, app = lagging

    async def scenario(client: httpx.AsyncClient) -> None:
        # given a write the read models have not applied yet
        written = await client.post("/v1/teams", json={"name": "Fresh"})
        position = written.json()["position"]
        # when more clients than there are worker threads wait for it
        waits = [asyncio.create_task(client.get("/v1/teams", params={"min_position": position}))
                 for _ in range(WAITS)]
        await until(lambda: runtime.waits == WAITS, f"{WAITS} pending waits")
        # then /healthz, and a route that needs a worker thread, still answer
        health = await asyncio.wait_for(client.get("/healthz"), 20)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        other = await asyncio.wait_for(client.get("/v1/teams"), 20)
        assert other.status_code == 200
        # while every wait is still pending
        assert runtime.waits == WAITS
        assert not any(w.done() for w in waits)
        # and once the read models apply the position, every wait answers with it
        await asyncio.to_thread(apply_everything, runtime)
        answers = await asyncio.wait_for(asyncio.gather(*waits), 20)
        assert {a.status_code for a in answers} == {200}
        assert all([t["name"] for t in a.json()["items"]] == ["Fresh"] for a in answers)
        assert runtime.waits == 0

    run(scenario, app)


def test_waits_beyond_the_bound_are_503_with_retry_after(
        lagging: tuple[Runtime, FastAPI]) -> None:
    runtime, app = lagging

    async def scenario(client: httpx.AsyncClient) -> None:
        position = (await client.post("/v1/teams", json={"name": "X"})).json()["position"]
        waits = [asyncio.create_task(client.get("/v1/teams", params={"min_position": position}))
                 for _ in range(WAITS)]
        await until(lambda: runtime.waits == WAITS, f"{WAITS} pending waits")
        # when one more request waits
        extra = await asyncio.wait_for(
            client.get("/v1/teams", params={"min_position": position}), 20)
        # then it is refused at once, and told when to come back
        assert extra.status_code == 503
        assert extra.headers["retry-after"] == "1"
        assert extra.headers["content-type"] == "application/problem+json"
        # a request that needs no wait is still served
        done = await client.get("/v1/teams", params={"min_position": 0})
        assert done.status_code == 200
        await asyncio.to_thread(apply_everything, runtime)
        assert {a.status_code for a in await asyncio.gather(*waits)} == {200}

    run(scenario, app)


@pytest.mark.parametrize("embedded", [True, False], ids=["embedded", "distributed"])
def test_a_wait_that_times_out_is_503_with_retry_after(tmp_path: Path, embedded: bool) -> None:
    runtime, app = lagging_server(tmp_path, embedded=embedded)
    runtime.settings.min_position_timeout = 0.2

    async def scenario(client: httpx.AsyncClient) -> None:
        position = (await client.post("/v1/teams", json={"name": "X"})).json()["position"]
        r = await client.get("/v1/teams", params={"min_position": position})
        assert r.status_code == 503
        assert r.headers["retry-after"] == "1"
        assert r.json()["detail"] == f"read models have not yet applied position {position}"
        assert runtime.waits == 0

    try:
        run(scenario, app)
    finally:
        runtime.close()
