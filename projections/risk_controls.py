"""The risks context's compliance controls: findings computed from the risk register
and the contingency plans, with evidence (the shape and ids of
:mod:`.compliance_controls`).

- ``risk_review_overdue``: a risk not reviewed (assessed) by its ``review_by`` date
  (overdue from the next day, UTC). Each date missed is its own finding
  (``risk_review_overdue:<risk>:<date>``), resolved by the late review or the closing.
- ``high_risk_untreated``: a risk whose residual score reached the policy's
  ``untreated_min_score`` without any treatment within ``untreated_days`` of reaching
  it (``high_risk_untreated:<risk>:<event that made it high>``); resolved by the late
  treatment, by an assessment below the score, or by the closing.
- ``plan_not_exercised``: a contingency plan covering an open risk of residual score at
  least ``exercise_min_score``, without a drill within ``exercise_interval_days`` of
  when it became needed (the later of its drafting and the risk becoming high) or of
  its last drill (``plan_not_exercised:<plan>:<due date>``); resolved by the late drill.
- ``risk_accepted_by_owner``: segregation of duties on acceptances; an approval the
  risk's owner recorded themselves (its actor is the owner's principal), whoever it
  names as approver (the ledger already refuses the owner as ``approver_id``). Nothing
  can put it right: it stays open until decided on (waived, accepted as a risk).

A fact is judged by the policy version in force when it happened: whether a score was
high by the version in force at the event that gave the score, the days allowed by
the version in force when the risk became high (or the plan became needed, or was
last drilled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta

from projections.compliance_controls import Finding, _finding, _under, is_own_principal, iso
from projections.control_policies import Policies
from projections.fold import Document
from projections.times import parse_time


def _end_of(day: object) -> datetime | None:
    """When something due on ``day`` (a date) is overdue: the next day, 00:00 UTC."""
    try:
        due = date.fromisoformat(str(day)[:10])
    except ValueError:
        return None
    return datetime.combine(due + timedelta(days=1), datetime.min.time(), UTC)


def _closed(risk: Document) -> tuple[datetime, str | None] | None:
    closed = risk.get("closed_at")
    return (parse_time(closed), risk.get("closing_event_id")) if closed else None


def _first_event(doc: Document) -> str | None:
    first = (doc.get("event_ids") or [None])[0]
    return None if first is None else str(first)


# -- risk_review_overdue ----------------------------------------------------------------


def risk_review_overdue(risk: Document, now: datetime) -> list[Finding]:
    reviews = risk.get("assessments") or []
    # (due date, the event that set it): the identification's, then each review's;
    # review n ends the period of due date n (the last is still running).
    dues = [(reviews[0].get("due_by") if reviews else risk.get("review_by"),
             _first_event(risk)),
            *((review.get("review_by"), review.get("event_id")) for review in reviews)]
    closed = _closed(risk)
    findings = []
    for n, (due, set_by) in enumerate(dues):
        deadline = _end_of(due)
        review = reviews[n] if n < len(reviews) else None
        ended = ((parse_time(review["at"]), review.get("event_id")) if review is not None
                 else closed)
        end = ended[0] if ended is not None else now
        if deadline is None or end <= deadline:
            continue
        state = "still not reviewed"
        if ended is not None:
            state = f"{'reviewed' if review is not None else 'closed'} on {iso(end)[:10]}"
        findings.append(_finding(
            "risk_review_overdue", risk["id"], risk.get("team_id"), opened_at=iso(deadline),
            resolved_at=iso(end) if ended is not None else None,
            breached_by_seconds=(end - deadline).total_seconds() if ended else None,
            evidence=[set_by, ended[1] if ended is not None else None], extra=str(due),
            summary=f"Risk '{risk.get('title')}' (owner {risk.get('owner_id')}) was due "
                    f"for review by {due}; {state}",
        ))
    return findings


# -- high_risk_untreated ----------------------------------------------------------------


def _scores(risk: Document) -> list[tuple[datetime, int, str | None]]:
    """(when, residual score, event) at the identification and at every assessment."""
    return [(parse_time(point["at"]), int(point.get("residual_score") or 0),
             point.get("event_id")) for point in risk.get("scores") or []]


def _high_runs(risk: Document, control: str, minimum: str, policies: Policies,
               ) -> list[tuple[datetime, str | None, datetime | None, str | None]]:
    """(became high, its event, stopped being high or None, that event) for each run of
    residual scores at or above the control's ``minimum`` in force at each score."""
    runs: list[tuple[datetime, str | None, datetime | None, str | None]] = []
    start: tuple[datetime, str | None] | None = None
    for at, residual, event_id in _scores(risk):
        high = residual >= getattr(policies.thresholds_at(control, at), minimum)
        if high and start is None:
            start = (at, event_id)
        elif not high and start is not None:
            runs.append((*start, at, event_id))
            start = None
    if start is not None:
        runs.append((*start, None, None))
    return runs


def high_risk_untreated(risk: Document, now: datetime, policies: Policies) -> list[Finding]:
    treatments = risk.get("treatments") or []
    treated = (parse_time(treatments[0]["at"]), treatments[0].get("event_id")) \
        if treatments else None
    closed = _closed(risk)
    findings = []
    for since, since_event, until, until_event in _high_runs(
            risk, "high_risk_untreated", "untreated_min_score", policies):
        if treated is not None and treated[0] <= since:
            break  # treated before it was high: every later run is too
        if closed is not None and closed[0] <= since:
            break
        version = policies.version_at("high_risk_untreated", since)
        thresholds = policies.thresholds_at("high_risk_untreated", since)
        deadline = since + timedelta(days=thresholds.untreated_days)
        ends = [end for end in (treated, (until, until_event) if until else None, closed)
                if end is not None]
        ended = min(ends, key=lambda end: end[0]) if ends else None
        end = ended[0] if ended is not None else now
        if end <= deadline:
            continue
        how = "still untreated"
        if ended is not None:
            how = ("treated" if ended is treated else "closed" if ended is closed
                   else "assessed lower")
            how += f" on {iso(end)[:10]}"
        findings.append(_finding(
            "high_risk_untreated", risk["id"], risk.get("team_id"), opened_at=iso(deadline),
            resolved_at=iso(end) if ended is not None else None,
            breached_by_seconds=(end - deadline).total_seconds() if ended else None,
            evidence=[since_event, ended[1] if ended is not None else None],
            extra=since_event,
            summary=f"Risk '{risk.get('title')}' reached residual score "
                    f"{thresholds.untreated_min_score} or more on {iso(since)[:10]} and had "
                    f"no treatment within {thresholds.untreated_days} days; "
                    f"{how}{_under(version)}",
        ))
    return findings


# -- plan_not_exercised -----------------------------------------------------------------


def _needed_since(plan: Document, risks: Mapping[str, Document], policies: Policies,
                  ) -> tuple[datetime, str | None, Document] | None:
    """Since when the plan covers a high risk (the earliest of its open risks' current
    runs at or above ``exercise_min_score``, not before the plan was drafted), the
    event that made it so and that risk; None while it covers no high risk."""
    found = []
    for risk_id in plan.get("risk_ids") or []:
        risk = risks.get(risk_id)
        if risk is None or risk.get("status") == "closed":
            continue
        runs = _high_runs(risk, "plan_not_exercised", "exercise_min_score", policies)
        if runs and runs[-1][2] is None:
            found.append((runs[-1][0], runs[-1][1], risk))
    if not found:
        return None
    since, event_id, risk = min(found, key=lambda f: f[0])
    drafted = parse_time(plan["drafted_at"])
    return (drafted, _first_event(plan), risk) if drafted > since else (since, event_id, risk)


def plan_not_exercised(plan: Document, risks: Mapping[str, Document], now: datetime,
                       policies: Policies) -> list[Finding]:
    needed = _needed_since(plan, risks, policies)
    if needed is None:
        return []
    since, since_event, risk = needed
    drills = sorted((parse_time(x["held_at"]), x.get("event_id"))
                    for x in plan.get("exercises") or [])
    findings = []
    start: tuple[datetime, str | None] = (since, since_event)
    for held in [*(d for d in drills if d[0] > since), None]:
        version = policies.version_at("plan_not_exercised", start[0])
        days = policies.thresholds_at("plan_not_exercised", start[0]).exercise_interval_days
        due = start[0] + timedelta(days=days)
        end = held[0] if held is not None else now
        if end > due:
            state = f"drilled on {iso(end)[:10]}" if held is not None else "no drill since"
            findings.append(_finding(
                "plan_not_exercised", plan["id"], plan.get("team_id"), opened_at=iso(due),
                resolved_at=iso(end) if held is not None else None,
                breached_by_seconds=(end - due).total_seconds() if held else None,
                evidence=[_first_event(plan), start[1], held[1] if held else None],
                extra=iso(due)[:10],
                summary=f"Contingency plan '{plan.get('title')}' for risk "
                        f"'{risk.get('title')}' (residual score {risk.get('residual_score')}) "
                        f"was due a drill by {iso(due)[:10]}, {days} days after "
                        f"{iso(start[0])[:10]}; {state}{_under(version)}",
            ))
        if held is not None:
            start = held
    return findings


# -- risk_accepted_by_owner -------------------------------------------------------------


def risk_accepted_by_owner(risk: Document, owner: Document | None) -> list[Finding]:
    if owner is None:
        return []
    return [_finding(
        "risk_accepted_by_owner", risk["id"], risk.get("team_id"),
        opened_at=acceptance["at"], resolved_at=None, extra=acceptance.get("event_id"),
        evidence=[_first_event(risk), acceptance.get("treatment_event_id"),
                  acceptance.get("event_id")],
        summary=f"The acceptance of risk '{risk.get('title')}' was recorded by its owner "
                f"{acceptance.get('actor')} ({owner.get('name')}), naming "
                f"{acceptance.get('approver_id')} as approver",
    ) for acceptance in risk.get("acceptances") or []
        if is_own_principal(str(acceptance.get("actor") or ""), owner)]


# -- all of them ------------------------------------------------------------------------


def evaluate(risks: Iterable[Document], plans: Iterable[Document],
             members: Mapping[str, Document], now: datetime, policies: Policies,
             ) -> list[Finding]:
    """Every finding of the risks controls as of ``now``: ``plans`` are judged by the
    ``risks`` given (a plan's risks are of its team), ``members`` must hold the risks'
    owners."""
    by_id = {risk["id"]: risk for risk in risks}
    findings: list[Finding] = []
    for risk in by_id.values():
        findings += risk_review_overdue(risk, now)
        findings += high_risk_untreated(risk, now, policies)
        findings += risk_accepted_by_owner(risk, members.get(str(risk.get("owner_id"))))
    for plan in plans:
        findings += plan_not_exercised(plan, by_id, now, policies)
    return findings
