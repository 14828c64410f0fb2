"""What changed between two versions of an entity: both states flattened to paths
(``status``, ``timeline[3].actor``, ``postmortem.causes[0]``) and compared path by
path, so a change deep inside a nested state is shown where it is, and an entry
appended to a list is one added path, not the whole list again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["added", "removed", "changed"]
MAX_DEPTH = 12
"""Deeper than this a value is compared whole (states are a few levels deep)."""


@dataclass(frozen=True)
class Change:
    path: str
    kind: Kind
    before: Any
    after: Any


def flatten(value: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """Every leaf of ``value`` by its path; an empty dict or list is a leaf."""
    if depth < MAX_DEPTH and isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for key in value:
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten(value[key], path, depth + 1))
        return flat
    if depth < MAX_DEPTH and isinstance(value, list) and value:
        flat = {}
        for index, item in enumerate(value):
            flat.update(flatten(item, f"{prefix}[{index}]", depth + 1))
        return flat
    return {prefix or "(state)": value}


def diff(before: Any, after: Any) -> list[Change]:
    """The changes from ``before`` to ``after``, in the order of ``after``'s paths,
    then the paths only ``before`` had."""
    old = flatten(before) if before else {}
    new = flatten(after) if after else {}
    changes = []
    for path, value in new.items():
        if path not in old:
            changes.append(Change(path, "added", None, value))
        elif old[path] != value:
            changes.append(Change(path, "changed", old[path], value))
    changes += [Change(path, "removed", value, None)
                for path, value in old.items() if path not in new]
    return changes
