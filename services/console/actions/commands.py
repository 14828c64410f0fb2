"""What every console action shares: the command's context from the signed-in grant
and the version the page showed (``If-Match``), and the answer to a stale version: a
conflict page that says what happened and appends nothing, never a silent overwrite.

An action's form posts ``csrf_token``, ``if_match`` (the version the page was made
from) and ``back`` (the console page to return to); see ``_macros.html``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError

from domain.access.aggregate import Role
from domain.errors import StaleVersionError
from domain.ledger import CommandContext
from services.api.bootstrap import PositionBeyondHeadError, TooManyWaitsError
from services.api.deps import context_for, require_role
from services.api.problems import ProblemError
from services.console.auth import Posted
from services.console.rendering import PREFIX, page


def back_of(posted: Posted) -> str:
    """The console page the form came from (a console path, else the overview)."""
    back = posted.form.get("back", "")
    if back.startswith(f"{PREFIX}/") and not back.startswith("//") and "\\" not in back:
        return back.split("?", 1)[0]
    return PREFIX


M = TypeVar("M", bound=BaseModel)

FIELD_LABELS = {"text": "note", "note": "note", "summary": "summary", "root_cause": "root cause",
                "link": "link", "reason": "reason", "until": "until", "value": "value",
                "priority": "priority", "owner_id": "owner"}


def body_of(model: type[M], fields: dict[str, Any]) -> M:
    """The form's fields checked by the API's own body model (the same limits, trimming
    and refused characters as a JSON body); a 422 page naming the field otherwise."""
    try:
        return model.model_validate(fields)
    except ValidationError as e:
        problems = []
        for error in e.errors(include_url=False):
            name = str(error["loc"][0]) if error["loc"] else "form"
            problems.append(f"{FIELD_LABELS.get(name, name)}: {error['msg']}")
        raise ProblemError(422, "the form is not valid: " + "; ".join(problems)) from None


def optional(form: dict[str, str], name: str) -> str | None:
    """A field left empty is a field not given."""
    value = form.get(name, "").strip()
    return value or None


def utc_of_local(value: str | None) -> str | None:
    """A ``datetime-local`` field's value (no offset: the console's times are UTC) as
    RFC 3339 in UTC; a value with its own offset is kept; empty is None."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    has_offset = value.endswith(("Z", "z")) or (len(value) > 19 and value[-6] in "+-")
    return value if has_offset else f"{value}:00Z" if len(value) == 16 else f"{value}Z"


def version_of(posted: Posted) -> int:
    raw = posted.form.get("if_match", "").strip()
    if not raw.isdigit() or len(raw) > 19:
        raise ProblemError(400, "the form does not say which version of the record it was "
                                "made from (if_match); reload the page and try again")
    return int(raw)


async def context_of(request: Request, posted: Posted, roles: tuple[Role, ...]
                     ) -> CommandContext:
    """The command's context: the viewer's principal as the actor, its teams, and
    ``If-Match`` from the form (a console action is always conditional)."""
    grant = require_role(posted.viewer.grant, roles)
    return context_for(grant, method=request.method, path=request.url.path,
                       body=await request.body(), if_match=version_of(posted))


async def run(request: Request, posted: Posted, what: str, notice: str,
              command: Callable[[], object]) -> Response:
    """Run ``command`` (in a worker thread, as the API's routes run); back to the page
    with ``notice``, or the conflict page (409) when the record changed after the page
    was made. Any other refusal is the problem page of its status."""
    try:
        result = await anyio.to_thread.run_sync(command)
    except StaleVersionError as e:
        return page(request, "conflict.html", "Conflict: changed meanwhile",
                    viewer=posted.viewer, status=409, what=what, seen=e.expected,
                    current=e.actual, back=back_of(posted))
    await shown_after(request, result)
    return RedirectResponse(f"{back_of(posted)}?notice={notice}", status_code=303)


async def shown_after(request: Request, result: object) -> None:
    """Wait (as ``min_position`` would) until the read models include what the command
    recorded, so the page the browser is sent back to shows it; past the API's wait
    limit (or with too many waiting) the page is shown anyway, a moment behind."""
    position = getattr(result, "position", 0)
    if not isinstance(position, int) or position <= 0:
        return
    runtime = request.app.state.runtime
    try:
        await runtime.await_position(position, runtime.settings.min_position_timeout)
    except (PositionBeyondHeadError, TooManyWaitsError):
        return
