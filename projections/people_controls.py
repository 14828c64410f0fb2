"""The people context's compliance controls: findings computed from the trainings and
the team policies, with evidence (the shape and ids of :mod:`.compliance_controls`).

Only the members active on the training's or policy's team now are judged: a member
who left (or moved away) no longer owes that team its trainings or acknowledgements.

- ``training_overdue``: an assignment not completed by its ``due`` date (late from the
  next day, UTC): ``training_overdue:<training>:<member>:<due>``; resolved by the late
  completion.
- ``training_expired``: a completion whose validity (``valid_for_days``) ran out
  without a later one: ``training_expired:<training>:<member>:<expiry date>``, opened
  the day it expired; resolved by the next completion (after a new assignment).
- ``policy_unacknowledged``: a member who did not acknowledge a version of a policy
  within ``acknowledge_days`` of its publication (or of joining the team, if later):
  ``policy_unacknowledged:<policy>:<member>:<version>``; resolved by the late
  acknowledgement, or when a newer version supersedes it (the newer one's clock
  starts then). ``acknowledge_days`` is a versioned threshold: the version in force
  when the clock started judges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from projections.compliance_controls import Finding, _finding, _under, iso
from projections.control_policies import Policies
from projections.fold import Document
from projections.people_standing import end_of, expires_at, on_team_since
from projections.times import parse_time


def _member_of(training_or_policy: Document, members: Mapping[str, Document],
               member_id: str) -> Document | None:
    member = members.get(member_id)
    if member is None or on_team_since(member, str(training_or_policy.get("team_id"))) is None:
        return None
    return member


def training_overdue(training: Document, members: Mapping[str, Document],
                     now: datetime) -> list[Finding]:
    findings = []
    for a in training.get("assignments") or []:
        member_id = str(a.get("member_id"))
        deadline = end_of(a.get("due"))
        if deadline is None or _member_of(training, members, member_id) is None:
            continue
        done = a.get("completed_at")
        end = parse_time(done) if done else now
        if end <= deadline:
            continue
        state = f"completed on {done[:10]}" if done else "still not completed"
        findings.append(_finding(
            "training_overdue", training["id"], training.get("team_id"),
            opened_at=iso(deadline), resolved_at=iso(end) if done else None,
            breached_by_seconds=(end - deadline).total_seconds() if done else None,
            evidence=[a.get("event_id"), a.get("completion_event_id")],
            extra=f"{member_id}:{a.get('due')}",
            summary=f"Training '{training.get('title')}' assigned to member {member_id} was "
                    f"due by {a.get('due')}; {state}",
        ))
    return findings


def training_expired(training: Document, members: Mapping[str, Document],
                     now: datetime) -> list[Finding]:
    by_member: dict[str, list[Document]] = {}
    for a in training.get("assignments") or []:
        by_member.setdefault(str(a.get("member_id")), []).append(a)
    findings = []
    for member_id, assignments in by_member.items():
        if _member_of(training, members, member_id) is None:
            continue
        for n, a in enumerate(assignments):
            expired = expires_at(training, a.get("completed_at"))
            if expired is None or expired > now:
                continue
            renewal = next((b for b in assignments[n + 1:] if b.get("completed_at")), None)
            renewed = parse_time(renewal["completed_at"]) if renewal else None
            if renewed is not None and renewed <= expired:
                continue
            state = f"renewed on {iso(renewed)[:10]}" if renewed else "not renewed"
            findings.append(_finding(
                "training_expired", training["id"], training.get("team_id"),
                opened_at=iso(expired), resolved_at=iso(renewed) if renewed else None,
                breached_by_seconds=(renewed - expired).total_seconds() if renewed else None,
                evidence=[a.get("completion_event_id"),
                          renewal.get("completion_event_id") if renewal else None],
                extra=f"{member_id}:{iso(expired)[:10]}",
                summary=f"Member {member_id}'s training '{training.get('title')}' (completed "
                        f"{str(a.get('completed_at'))[:10]}, valid {training.get('valid_for_days')}"
                        f" days) expired on {iso(expired)[:10]}; {state}",
            ))
    return findings


def policy_unacknowledged(policy: Document, members: Mapping[str, Document], now: datetime,
                          policies: Policies) -> list[Finding]:
    findings = []
    team_id = str(policy.get("team_id"))
    for version in policy.get("versions") or []:
        published = parse_time(version["published_at"])
        superseded = version.get("superseded_at")
        ended_at = parse_time(superseded) if superseded else None
        acks = {str(a.get("member_id")): a for a in version.get("acknowledgements") or []}
        for member_id, member in members.items():
            joined = on_team_since(member, team_id)
            if joined is None:
                continue
            start = max(published, joined)
            if ended_at is not None and ended_at <= start:
                continue  # on the team only once a newer version was in force
            rule = policies.version_at("policy_unacknowledged", start)
            days = policies.thresholds_at("policy_unacknowledged", start).acknowledge_days
            deadline = start + timedelta(days=days)
            ack = acks.get(member_id)
            ends = [t for t in (parse_time(ack["at"]) if ack else None, ended_at) if t]
            end = min(ends) if ends else now
            if end <= deadline:
                continue
            how = "still not acknowledged"
            if ends:
                how = ("acknowledged" if ack and end == parse_time(ack["at"])
                       else "superseded") + f" on {iso(end)[:10]}"
            findings.append(_finding(
                "policy_unacknowledged", policy["id"], team_id, opened_at=iso(deadline),
                resolved_at=iso(end) if ends else None,
                breached_by_seconds=(end - deadline).total_seconds() if ends else None,
                evidence=[version.get("event_id"), ack.get("event_id") if ack else None],
                extra=f"{member_id}:{version.get('version')}",
                summary=f"Member {member_id} ({member.get('name')}) did not acknowledge "
                        f"version {version.get('version')} of policy '{policy.get('title')}' "
                        f"within {days} days of {iso(start)[:10]}; {how}{_under(rule)}",
            ))
    return findings


def evaluate(trainings: Iterable[Document], team_policies: Iterable[Document],
             members: Mapping[str, Document], now: datetime, policies: Policies,
             ) -> list[Finding]:
    """Every finding of the people controls as of ``now``; ``members`` must hold the
    members of the trainings' and policies' teams (by id)."""
    findings: list[Finding] = []
    for training in trainings:
        findings += training_overdue(training, members, now)
        findings += training_expired(training, members, now)
    for policy in team_policies:
        findings += policy_unacknowledged(policy, members, now, policies)
    return findings
