"""Route dispatch by path shape, in front of the application's router.

Starlette's router tries every route's regex in order until one matches; with the
API's ~150 routes (and FastAPI's included routers, each matched twice) that was a
quarter of the CPU of a simple read. Here the routes are indexed once, by the shape
of the paths they can match: the number of segments and the first two segments
(``/v1/feedback/{feedback_id}`` can only match a path of three segments starting
``/v1/feedback``). A request is matched against the routes of its shape only, in
their original order, followed by every route that cannot be indexed (a mount, a
path parameter in the first two segments, a ``{name:path}`` parameter): those are
in every shape's list, so the first route that matches is the one the router would
pick.

Anything else is the router's own: when no indexed route matches the path fully
(a 404, a 405, a redirect to the path with or without its trailing slash, a
low-priority route) the request goes to the full router, which answers exactly as
it did without the index. So do lifespan and websocket scopes, and a request under a
``root_path``.

The index is built at the first request, and again whenever the router's list of
routes has changed length since.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from typing import Any

import fastapi.routing
from starlette.convertors import (
    Convertor,
    FloatConvertor,
    IntegerConvertor,
    StringConvertor,
    UUIDConvertor,
)
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

Shape = tuple[int, str, str]
"""A path's number of segments, and its first and second segment ("" if none)."""

# Convertors whose values never hold a "/": a path they match has the template's
# number of segments. ``path`` (and any custom convertor) may, so is not indexed.
_ONE_SEGMENT: tuple[type[Convertor[Any]], ...] = (
    StringConvertor, IntegerConvertor, FloatConvertor, UUIDConvertor)
# A static segment of these characters only matches itself, whatever the version of
# Starlette compiles it into (older ones did not escape ``.`` in a path).
_PLAIN_SEGMENT = re.compile(r"^[A-Za-z0-9_~-]*$")


def shape_of_path(path: str) -> Shape | None:
    """The shape of a request's path, or None for one that does not start with "/"."""
    if not path.startswith("/"):
        return None
    segments = path.split("/")
    return (len(segments) - 1, segments[1], segments[2] if len(segments) > 2 else "")


def shape_of_template(template: str, convertors: Iterable[Any]) -> Shape | None:
    """The one shape of the paths a route template can match, or None when it can
    match paths of several shapes (a parameter in the first two segments, or one
    whose value may hold a "/")."""
    if any(type(c) not in _ONE_SEGMENT for c in convertors):
        return None
    shape = shape_of_path(template)
    if shape is None or not all(_PLAIN_SEGMENT.match(s) for s in shape[1:3]):
        return None
    return shape


def shapes_of(route: BaseRoute) -> set[Shape] | None:
    """Every shape ``route`` can match (an included router: those of its routes), or
    None when it may match any path (a mount, a host, a route not indexed)."""
    if isinstance(route, Route):
        shape = shape_of_template(route.path_format, route.param_convertors.values())
        return None if shape is None else {shape}
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # an older FastAPI copies included routes: this is no router
        return None
    shapes: set[Shape] = set()
    for context in contexts([route]):  # what a newer FastAPI's included router holds
        if not isinstance(context.original_route, Route):
            return None
        shape = shape_of_template(context.path_format, context.param_convertors.values())
        if shape is None:
            return None
        shapes.add(shape)
    return shapes


class _ToFullRouter(BaseRoute):
    """The last route of every shape's list: matches anything and hands the request
    to the full router, which then answers as if there were no index."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        return Match.FULL, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.router.app(scope, receive, send)


def _index(routes: Iterable[BaseRoute]) -> tuple[dict[Shape, list[BaseRoute]],
                                                  list[BaseRoute]]:
    by_shape: dict[Shape, list[BaseRoute]] = {}
    everywhere: list[BaseRoute] = []
    order: list[tuple[BaseRoute, set[Shape] | None]] = [(r, shapes_of(r)) for r in routes]
    for _, held in order:
        for shape in held or ():
            by_shape.setdefault(shape, [])
    for route, held in order:
        for shape, listed in by_shape.items():
            if held is None or shape in held:
                listed.append(route)
        if held is None:
            everywhere.append(route)
    return by_shape, everywhere


class ShapeDispatch:
    """The router's entry point for http requests (``router.middleware_stack``):
    each request meets only the routes its path's shape can match."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.inner = router.middleware_stack
        self._built_for = -1
        self._by_shape: dict[Shape, Router] = {}
        self._others: Router = router

    def _build(self) -> None:
        routes = list(self.router.routes)
        by_shape, everywhere = _index(routes)
        to_full = _ToFullRouter(self.router)
        self._by_shape = {shape: self._sub_router([*listed, to_full])
                          for shape, listed in by_shape.items()}
        self._others = self._sub_router([*everywhere, to_full])
        self._built_for = len(routes)

    def _sub_router(self, routes: list[BaseRoute]) -> Router:
        # The router itself, seeing fewer routes: the same matching loop, the same
        # bookkeeping of the scope (FastAPI's telemetry and form limits included).
        sub = copy.copy(self.router)
        sub.routes = routes
        return sub

    def _sub_for(self, path: str) -> Router:
        if len(self.router.routes) != self._built_for:
            self._build()
        shape = shape_of_path(path)
        return self._others if shape is None else self._by_shape.get(shape, self._others)

    def routes_for(self, path: str) -> list[BaseRoute]:
        """The routes a request for ``path`` is matched against, in order (the last
        hands it to the full router)."""
        return self._sub_for(path).routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.inner(scope, receive, send)
            return
        sub = self._sub_for(scope["path"])
        scope.setdefault("router", self.router)  # url_for looks at every route
        await sub.app(scope, receive, send)


def install(router: Router) -> ShapeDispatch:
    """Put a :class:`ShapeDispatch` in front of ``router``'s routes."""
    if router.middleware_stack != router.app:
        raise RuntimeError("the router has middleware of its own: dispatch would skip it")
    dispatch = ShapeDispatch(router)
    router.middleware_stack = dispatch
    return dispatch

