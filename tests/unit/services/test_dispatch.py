"""Dispatch by path shape (services/api/dispatch.py): a request meets only the routes
its path can match, and answers exactly as the router alone would."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Match
from starlette.types import Scope

from services.api import app as api_app
from services.api import dispatch

TRIED: Counter[str] = Counter()


class CountedRoute(APIRoute):
    """Counts how often the router asks it whether it matches."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        TRIED[self.path_format] += 1
        return super().matches(scope)


def build(with_dispatch: bool) -> FastAPI:
    """Ten decoys first, then: a route with a parameter in its first segment, declared
    before a static one it also matches; routes behind an included router's prefix;
    one path served by GET only."""
    app = FastAPI()
    decoys = APIRouter(route_class=CountedRoute)
    for i in range(10):
        decoys.add_api_route(f"/v1/decoy{i}/{{item_id}}", lambda item_id: {"decoy": item_id})
    first = APIRouter(route_class=CountedRoute)

    @first.get("/{kind}/items")
    def by_kind(kind: str) -> dict[str, str]:
        return {"by": "kind", "kind": kind}

    @first.get("/static/items")
    def static() -> dict[str, str]:
        return {"by": "static"}

    things = APIRouter(prefix="/things", route_class=CountedRoute)

    @things.get("/{thing_id:int}")
    def thing(thing_id: int) -> dict[str, Any]:
        return {"thing": thing_id}

    @things.post("")
    def make_thing() -> dict[str, str]:
        return {"made": "yes"}

    app.include_router(decoys)
    app.include_router(first)
    app.include_router(things, prefix="/v1")
    if with_dispatch:
        dispatch.install(app.router)
    return app


def answer(app: FastAPI, method: str, path: str) -> tuple[int, str, dict[str, str]]:
    with TestClient(app) as client:
        r = client.request(method, path, follow_redirects=False)
    headers = {k: v for k, v in r.headers.items() if k in ("allow", "location")}
    return r.status_code, r.text, headers


def decoys_tried() -> int:
    return sum(n for path, n in TRIED.items() if path.startswith("/v1/decoy"))


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    TRIED.clear()


def test_a_route_behind_a_prefix_is_found_without_trying_the_routes_before_it() -> None:
    app = build(with_dispatch=True)
    assert answer(app, "GET", "/v1/things/42") == (200, '{"thing":42}', {})
    assert answer(app, "POST", "/v1/things") == (200, '{"made":"yes"}', {})
    assert decoys_tried() == 0


def test_without_the_dispatch_the_router_tries_every_route_before_it() -> None:
    # What the dispatch saves, seen on the same app: the router alone asks the decoys.
    app = build(with_dispatch=False)
    assert answer(app, "GET", "/v1/things/42") == (200, '{"thing":42}', {})
    assert decoys_tried() >= 10


def test_a_path_parameter_in_the_first_segment_keeps_its_place_in_the_order() -> None:
    app = build(with_dispatch=True)
    # /{kind}/items is declared first, so it answers /static/items, as in the router.
    assert answer(app, "GET", "/static/items") == (
        200, '{"by":"kind","kind":"static"}', {})
    assert answer(app, "GET", "/other/items") == (200, '{"by":"kind","kind":"other"}', {})
    assert decoys_tried() == 0


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/v1/nothing/here", 404),       # a shape no route has
    ("GET", "/v1/decoy1/x/y", 404),         # a known start, one segment too many
    ("GET", "/v1/things/not-an-int", 404),  # the shape of a route its convertor refuses
    ("DELETE", "/v1/things/42", 405),       # a path served by GET only
    ("GET", "/v1/things/42/", 307),         # a trailing slash: the router's redirect
    ("GET", "/", 404),
])
def test_a_request_no_indexed_route_takes_gets_the_router_s_own_answer(
        method: str, path: str, status: int) -> None:
    expected = answer(build(with_dispatch=False), method, path)
    assert expected[0] == status
    assert answer(build(with_dispatch=True), method, path) == expected


def test_the_405_names_the_methods_of_the_path() -> None:
    status, _, headers = answer(build(with_dispatch=True), "DELETE", "/v1/things/42")
    assert (status, headers) == (405, {"allow": "GET"})


def test_routes_added_after_the_first_request_are_found() -> None:
    app = build(with_dispatch=True)
    assert answer(app, "GET", "/late")[0] == 404
    app.add_api_route("/late", lambda: {"late": True})
    assert answer(app, "GET", "/late") == (200, '{"late":true}', {})


def test_the_api_s_routes_are_indexed_by_shape() -> None:
    app = api_app.create_app()
    installed = app.router.middleware_stack
    assert isinstance(installed, dispatch.ShapeDispatch)
    routes = installed.routes_for("/v1/feedback/6f1c1f0e-4a8e-4a53-9b2f-2f4a8c1f0e11")
    paths = [getattr(r, "path", None) for r in routes if isinstance(r, APIRoute)]
    assert paths == ["/v1/feedback/{feedback_id}"]
    assert len(routes) < 8  # that one, the few routes no shape holds, the hand-off
    assert len(app.routes) > 100


def test_the_openapi_document_is_that_of_the_included_routers(
        monkeypatch: pytest.MonkeyPatch) -> None:
    flat = json.dumps(api_app.create_app().openapi())
    monkeypatch.setattr(api_app, "add_routes",
                        lambda app, router: app.include_router(router))
    included = json.dumps(api_app.create_app().openapi())
    assert flat == included


def test_a_router_with_a_prefix_of_its_own_is_refused_by_add_routes() -> None:
    with pytest.raises(ValueError, match="plain router"):
        api_app.add_routes(FastAPI(), APIRouter(prefix="/v2"))
