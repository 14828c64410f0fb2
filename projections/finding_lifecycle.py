"""A finding's lifecycle: the decisions on it applied to what the controls found.

``apply_decisions`` is pure and runs after :func:`projections.compliance_controls.
evaluate`: each finding gets its ``state`` as of ``now``, its ``decision`` (the latest
that had happened by then) and every decision (``decisions``, oldest first).

- ``resolved``: the control is satisfied, whatever was decided (the decision is still
  shown);
- ``waived`` / ``risk_accepted``: the latest decision is a waiver or an accepted risk
  whose ``until`` is still ahead (or a waiver without one);
- ``open`` otherwise: nothing decided, reopened, or a decision past its ``until``,
  which lapses by itself.

Each decision shown says whether it is ``in_force`` (it sets the state now). The
controls' own ``status`` (open or resolved) is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from projections.compliance_controls import Finding
from projections.fold import Document
from projections.times import parse_time

State = Literal["open", "resolved", "waived", "risk_accepted"]
STATES: tuple[State, ...] = ("open", "resolved", "waived", "risk_accepted")
_DECIDED: frozenset[str] = frozenset({"waived", "risk_accepted"})


def _lapsed(decision: Mapping[str, Any], now: datetime) -> bool:
    until = decision.get("until")
    return until is not None and parse_time(str(until)) <= now


def lifecycle(finding: Finding, decided: Document | None, now: datetime) -> dict[str, Any]:
    """``state``, ``decision`` and ``decisions`` of ``finding`` at ``now``, given the
    document of its decisions (:mod:`projections.views.finding_decisions`), if any."""
    happened = [
        d for d in (decided or {}).get("decisions") or [] if parse_time(str(d["at"])) <= now
    ]
    latest = happened[-1] if happened else None
    in_force = (latest is not None and latest["kind"] in _DECIDED
                and not _lapsed(latest, now) and finding["status"] != "resolved")
    state: State
    if finding["status"] == "resolved":
        state = "resolved"
    elif in_force and latest is not None:
        state = "waived" if latest["kind"] == "waived" else "risk_accepted"
    else:
        state = "open"
    shown = [{**d, "in_force": False} for d in happened]
    if shown and in_force:
        shown[-1]["in_force"] = True
    return {"state": state, "decision": shown[-1] if shown else None, "decisions": shown}


def apply_decisions(findings: Iterable[Finding], decisions: Mapping[str, Document],
                    now_iso: str) -> list[Finding]:
    """Each finding with its lifecycle at ``now_iso`` (``decisions`` by finding id)."""
    now = parse_time(now_iso)
    return [{**f, **lifecycle(f, decisions.get(f["id"]), now)} for f in findings]
