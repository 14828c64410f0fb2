"""A command's headers (If-Match, Idempotency-Key, X-Correlation-Id, X-Causation-Id,
OpsLedger-Import-Run) are read off the request by the command context, not declared
to FastAPI: validated by the same rules with the same 422, and documented as FastAPI
documents declared headers."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from services.api.deps import documented_command_headers
from services.api.openapi import api_routes
from tests.e2e.conftest import Api

HEADERS = ["if-match", "idempotency-key", "x-correlation-id", "x-causation-id",
           "opsledger-import-run"]


def declared() -> TestClient:
    """The reference: a route that declares the same headers as FastAPI parameters."""
    app = FastAPI()

    @app.post("/declared")
    def route(_: Annotated[None, Depends(documented_command_headers)]) -> dict[str, str]:
        return {}

    return TestClient(app)


def feedback(api: Api) -> dict[str, Any]:
    return {"kind": "customer", "team_id": api.team(), "text": "slow", "channel": "email",
            "score": 4}


@pytest.mark.parametrize("headers", [
    {"Idempotency-Key": "k" * 201},
    {"X-Correlation-Id": "c" * 201, "X-Causation-Id": "d" * 300},
    {"OpsLedger-Import-Run": "not-a-uuid"},
    {"OpsLedger-Import-Run": ""},
])
def test_a_bad_command_header_is_the_422_fastapi_gives_a_declared_one(
        api: Api, headers: dict[str, str]) -> None:
    # given the errors FastAPI itself gives for these headers, declared
    reference = declared().post("/declared", headers=headers)
    assert reference.status_code == 422
    expected = [{k: e[k] for k in ("loc", "msg", "type")} for e in reference.json()["detail"]]
    # when a command is sent with them
    head = api.head()
    r = api.post("/v1/feedback", feedback(api), **headers)
    # then the problem lists the same errors, and nothing is appended
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == expected
    assert api.head() == head + 1  # the team only


def test_good_command_headers_are_taken(api: Api) -> None:
    r = api.post("/v1/feedback", feedback(api), expect=201,
                 **{"Idempotency-Key": "k" * 200, "X-Correlation-Id": "corr-7"})
    again = api.post("/v1/feedback", feedback(api), **{"Idempotency-Key": "k" * 200})
    assert again.status_code == 422  # the key reused for another body: the key was read
    event = api.get("/v1/events", after=r.json()["position"] - 1, limit=1)["items"][0]
    assert event["correlationid"] == "corr-7"


def test_command_routes_declare_no_header_to_fastapi_but_document_them(api: Api) -> None:
    app = api.client.app
    route = next(r for r in api_routes(app.routes)  # type: ignore[attr-defined]
                 if r.path_format == "/v1/feedback" and "POST" in r.methods)
    assert not route.dependant.header_params
    assert all(not sub.header_params for sub in route.dependant.dependencies)
    reference = declared().app.openapi()["paths"]["/declared"]["post"]["parameters"]
    operation = app.openapi()["paths"]["/v1/feedback"]["post"]  # type: ignore[attr-defined]
    documented = [p for p in operation["parameters"] if p["in"] == "header"]
    assert [p["name"] for p in documented] == HEADERS
    # as FastAPI documents them, but for If-Match, documented as the version it reads
    assert documented[1:] == reference[1:]
    assert documented[0]["schema"]["pattern"] == r'^((W/)?"?[0-9]{1,18}"?)?$'
