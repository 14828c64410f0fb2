"""The one dependency of the hot read routes (one feedback item, goal or incident, and
their lists): the caller's grant checked for its role, the runtime, and the wait for
``min_position``, solved as one.

FastAPI solves each dependency of a route on every request, parameters and all; the
three a read had (the role check, the runtime, read-your-writes) were half of a
single read's CPU. ``min_position`` is read off the request here, after the token is
checked (so an unauthenticated request is a 401 whatever its query), validated as the
declared parameter was (same rule, same 422), and documented as FastAPI documents a
declared one (``services/api/openapi.py``, from :func:`documented_read_parameters`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from domain.access.aggregate import Role
from infra.auth import Grant
from services.api.bootstrap import Runtime
from services.api.deps import READ, MinPosition, applied, current_grant, input_errors, require_role


def documented_read_parameters(min_position: MinPosition = None) -> None:
    """The parameters of a read as FastAPI documents them; never called."""


_MIN_POSITION: TypeAdapter[int | None] = TypeAdapter(MinPosition)


def min_position_of(request: Request) -> int | None:
    """``?min_position=``, as FastAPI would read and validate the declared parameter."""
    value = request.query_params.get("min_position")
    if value is None:
        return None
    try:
        return _MIN_POSITION.validate_python(value)
    except PydanticValidationError as e:
        raise RequestValidationError(input_errors(e, "query", "min_position")) from None


@dataclass(frozen=True)
class Reading:
    """What a read route works with: the caller's grant and the runtime."""

    grant: Grant
    runtime: Runtime


def reading(*roles: Role) -> Callable[[Request], Awaitable[Reading]]:
    """The dependency of a read open to ``roles``: the grant (401/403/429 first), then
    the wait for ``min_position`` (409/503, as :func:`services.api.deps.read_your_writes`)."""
    async def read_as(request: Request) -> Reading:
        grant = require_role(await current_grant(request), roles)
        runtime: Runtime = request.app.state.runtime
        min_position = min_position_of(request)
        if min_position is not None:
            await applied(runtime, min_position)
        return Reading(grant, runtime)

    read_as.authenticates = True  # type: ignore[attr-defined]
    read_as.documented_by = documented_read_parameters  # type: ignore[attr-defined]
    return read_as


FreshRead = Annotated[Reading, Depends(reading(*READ))]
"""A read by any reading role, after ``?min_position=`` if given."""
