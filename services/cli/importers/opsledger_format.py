"""Reading the ``opsledger`` import format: JSON Lines, one command per line.

    {"source_id": "acme:evt-1", "occurred_at": "2024-03-01T09:00:00Z",
     "command": "incident.open", "incident": "INC-42", "team": "sre",
     "body": {"severity": "SEV2", "service": "checkout", "summary": "5xx above SLO"}}

Each line becomes one request (:mod:`services.cli.importers.opsledger_commands`), or
one refusal naming its line number; a bad line stops nothing else. Blank lines and
lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from typing import Any

from domain.incidents.action_items import postmortem_item_id
from services.cli.importers.opsledger_commands import (
    ACTION_ITEM_OWNER,
    COMMANDS,
    POSTMORTEM_ITEM,
    REFERENCE_KINDS,
    Command,
)
from services.cli.importers.plan import Request, Unit, entity_id, idempotency_key, utc_time

SOURCE = "opsledger"
LINE_FIELDS = ("source_id", "occurred_at", "command", "body")
MAX_SOURCE_ID = 150
MAX_LINES = 1_000_000
MAX_PLACE = 100
"""A postmortem has at most this many action items (the API's bound)."""


class LineError(ValueError):
    """Why a line is refused."""


def read_lines(lines: Iterable[str]) -> list[Unit]:
    """Every non-blank line of a JSONL file, mapped (line numbers count from 1)."""
    units: list[Unit] = []
    for number, text in enumerate(lines, start=1):
        if number > MAX_LINES:
            units.append(Unit.refused(f"line {number}",
                                      f"the file has more than {MAX_LINES:,} lines: split it"))
            break
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        units.append(map_line(number, text))
    return units


def map_line(number: int, text: str) -> Unit:
    where = f"line {number}"
    try:
        return Unit(where=where, requests=[_request(where, text)])
    except LineError as e:
        return Unit.refused(where, str(e))


def _request(where: str, text: str) -> Request:
    try:
        line = json.loads(text)
    except json.JSONDecodeError as e:
        raise LineError(f"not JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(line, dict):
        raise LineError("not a JSON object")
    name = line.get("command")
    command = COMMANDS.get(name) if isinstance(name, str) else None
    if not isinstance(name, str) or command is None:
        close = difflib.get_close_matches(str(name), COMMANDS, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise LineError(f"unknown command {name!r} ({hint}the commands are in docs/IMPORT.md)")
    source_id = line.get("source_id")
    if not isinstance(source_id, str) or not source_id.strip():
        raise LineError("no source_id: the source's own id of this fact, a non-empty text")
    if len(source_id) > MAX_SOURCE_ID:
        raise LineError(f"source_id is longer than {MAX_SOURCE_ID} characters")
    if "occurred_at" not in line:
        raise LineError("no occurred_at: when it happened, e.g. 2024-03-01T09:00:00Z")
    try:
        occurred_at = utc_time(line["occurred_at"])
    except ValueError as e:
        raise LineError(f"occurred_at: {e}") from None
    body = line.get("body", {})
    if not isinstance(body, dict):
        raise LineError("body is not a JSON object")
    refs = _references(name, command, line)
    body = _body(name, command, dict(body), refs)
    path = command.path.format(**{r: refs[r] for r in command.path_refs})
    named = {**line, "action_item": f"{POSTMORTEM_ITEM} {line.get(POSTMORTEM_ITEM)}"
             } if POSTMORTEM_ITEM in line else line
    legend = ", ".join(f"{named[r]} is {REFERENCE_KINDS[r]} {refs[r]}" for r in sorted(refs)
                       if named[r] != refs[r])
    return Request(kind=name, method="POST", path=path,
                   body={**body, "occurred_at": occurred_at},
                   key=idempotency_key(SOURCE, source_id), where=where, legend=legend)


def _references(name: str, command: Command, line: dict[str, Any]) -> dict[str, str]:
    given = {k: v for k, v in line.items() if k not in LINE_FIELDS}
    place = given.pop(POSTMORTEM_ITEM, None) if command.by_place else None
    if place is not None and "action_item" in given:
        raise LineError(f"name the item by action_item or by {POSTMORTEM_ITEM}, not both")
    unknown = sorted(set(given) - command.refs)
    if unknown:
        expected = ", ".join(sorted(command.refs)) or "none"
        raise LineError(f"{name} takes no {', '.join(unknown)} (its references: {expected})")
    missing = sorted(command.required - set(given)
                     - ({"action_item"} if place is not None else set()))
    if missing:
        hint = f" (or {POSTMORTEM_ITEM})" if "action_item" in missing else ""
        raise LineError(f"{name} needs the reference(s) {', '.join(missing)}{hint}")
    refs = {}
    for ref, value in given.items():
        if not isinstance(value, str) or not value.strip():
            raise LineError(f"{ref} must be the source's id of a {REFERENCE_KINDS[ref]}, "
                            "a non-empty text")
        refs[ref] = entity_id(SOURCE, REFERENCE_KINDS[ref], value)
    if place is not None:
        refs["action_item"] = postmortem_item_id(refs["incident"], _place(place))
    return refs


def _place(value: Any) -> int:
    """A ``postmortem_item``: an item's place in the postmortem, from 1."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PLACE:
        raise LineError(f"{POSTMORTEM_ITEM} must be the item's place in the postmortem's "
                        f"action_items, a whole number from 1 to {MAX_PLACE}, got {value!r}")
    return value


def _body(name: str, command: Command, body: dict[str, Any],
          refs: dict[str, str]) -> dict[str, Any]:
    if "occurred_at" in body:
        raise LineError("occurred_at belongs at the top of the line, not in body")
    for ref, field in command.body_refs.items():
        if field in body:
            raise LineError(f"body.{field}: name the {REFERENCE_KINDS[ref]} with the "
                            f"reference {ref!r} at the top of the line instead")
        if ref in refs:
            body[field] = refs[ref]
    if name == "incident.postmortem" and isinstance(body.get(ACTION_ITEM_OWNER[0]), list):
        body[ACTION_ITEM_OWNER[0]] = [_action_item(item) for item in body[ACTION_ITEM_OWNER[0]]]
    return body


def _action_item(item: Any) -> Any:
    _, ref, field = ACTION_ITEM_OWNER
    if not isinstance(item, dict) or ref not in item:
        return item  # the API says what is wrong with it
    owner = item[ref]
    if not isinstance(owner, str) or not owner.strip():
        raise LineError("an action item's owner must be the source's id of a member")
    rest = {k: v for k, v in item.items() if k != ref}
    return {**rest, field: entity_id(SOURCE, "member", owner)}
