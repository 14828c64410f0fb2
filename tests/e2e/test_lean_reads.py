"""The hot reads (one feedback item, goal or incident, and their lists) solve one
dependency (services/api/reading.py): the token first, then ``min_position`` read off
the request with the declared parameter's rule and 422, documented as before."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from services.api.openapi import api_routes
from services.api.reading import documented_read_parameters
from tests.e2e.conftest import Api

HOT = ["/v1/feedback", "/v1/feedback/{feedback_id}", "/v1/goals", "/v1/goals/{goal_id}",
       "/v1/incidents", "/v1/incidents/{incident_id}"]


def declared_errors(value: str) -> list[dict[str, object]]:
    """What FastAPI answers for ``?min_position=value`` on a route that declares it."""
    app = FastAPI()

    @app.get("/declared")
    def route(_: Annotated[None, Depends(documented_read_parameters)]) -> dict[str, str]:
        return {}

    r = TestClient(app).get("/declared", params={"min_position": value})
    assert r.status_code == 422
    return [{k: e[k] for k in ("loc", "msg", "type")} for e in r.json()["detail"]]


@pytest.mark.parametrize("value", ["-1", "x", "", "1.5"])
def test_a_bad_min_position_is_the_422_of_the_declared_parameter(api: Api, value: str) -> None:
    team = api.team()
    r = api.client.get("/v1/feedback", params={"team_id": team, "min_position": value},
                       headers=api.headers)
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == declared_errors(value)


def test_a_read_without_a_token_is_a_401_whatever_its_min_position(api: Api) -> None:
    r = api.client.get("/v1/goals", params={"min_position": "not-a-number"})
    assert r.status_code == 401


def test_a_read_waits_for_min_position_and_refuses_one_beyond_the_head(api: Api) -> None:
    team = api.team()
    made = api.post("/v1/incidents", {"team_id": team, "severity": "SEV2",
                                      "service": "checkout", "summary": "Slow checkout"},
                    expect=201).json()
    incident = api.get(f"/v1/incidents/{made['id']}", min_position=made["position"])
    assert incident["id"] == made["id"]
    beyond = api.get(f"/v1/incidents/{made['id']}", expect=409,
                     min_position=made["position"] + 99)
    assert beyond["head"] >= made["position"]


def test_the_hot_reads_solve_one_dependency_and_still_document_min_position(api: Api) -> None:
    app = api.client.app
    routes = {r.path_format: r for r in api_routes(app.routes)  # type: ignore[attr-defined]
              if r.path_format in HOT and "GET" in r.methods}
    document = app.openapi()  # type: ignore[attr-defined]
    for path, route in routes.items():
        assert len(route.dependant.dependencies) == 1, path
        assert not route.dependant.dependencies[0].query_params, path
        parameters = document["paths"][path]["get"]["parameters"]
        assert parameters[-1]["name"] == "min_position", path
        assert parameters[-1]["schema"]["anyOf"][0] == {"type": "integer", "minimum": 0}
        assert document["paths"][path]["get"]["security"] == [{"bearerAuth": []}]
    assert len(routes) == len(HOT)
