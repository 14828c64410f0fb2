"""The people context's entries in the performance timelines (:mod:`.performance_timeline`),
with the machinery of the risks context's (:func:`.risk_timeline.timeline_fold`):

- a training assigned: the member's entry and the team's (``training_assigned``, with
  its due date and the role that required it, if it assigned itself);
- a training completed: the member's and the team's (``training_completed``), with
  its evidence and until when it is valid;
- a training defined: the team's (``training_defined``);
- a policy version published: the team's (``policy_published``);
- a policy acknowledged: the member's and the team's (``policy_acknowledged``).
"""

from __future__ import annotations

from datetime import timedelta

from domain.envelope import EventEnvelope
from projections.fold import Lookup
from projections.risk_timeline import Entries, Teller, timeline_fold
from projections.times import parse_time

CONTEXT = "people"


def _title(lookup: Lookup, collection: str, subject: str) -> str:
    return str((lookup(collection, subject) or {}).get("title") or subject)


def _defined(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    roles = ", ".join(d.get("required_for_roles") or []) or "no role"
    return Entries(f"Training defined: {d.get('title')} (required for {roles})",
                   d.get("team_id"), "training_defined", "training_defined", (),
                   {"training_id": e.subject, "required_for_roles": d.get("required_for_roles"),
                    "valid_for_days": d.get("valid_for_days")})


def _assigned(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    why = f" (required for {d['required_for_role']})" if d.get("required_for_role") else ""
    return Entries(
        f"Training assigned: {_title(lookup, 'trainings', e.subject)}, due {d.get('due')}{why}",
        d.get("team_id"), "training_assigned", "training_assigned", (str(d.get("member_id")),),
        {"training_id": e.subject, "due": d.get("due"),
         "required_for_role": d.get("required_for_role")})


def _completed(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    training = lookup("trainings", e.subject) or {}
    days = training.get("valid_for_days")
    until = None if not isinstance(days, int) else (
        parse_time(str(d.get("completed_at"))).date() + timedelta(days=days)).isoformat()
    return Entries(
        f"Training completed: {training.get('title') or e.subject}"
        + (f" (valid until {until})" if until else ""),
        d.get("team_id"), "training_completed", "training_completed",
        (str(d.get("member_id")),),
        {"training_id": e.subject, "member_id": d.get("member_id"),
         "evidence": d.get("evidence"), "valid_until": until})


def _published(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    title = d.get("title") or _title(lookup, "policies", e.subject)
    superseding = f", superseding {d['supersedes']}" if d.get("supersedes") else ""
    return Entries(f"Policy published: {title} version {d.get('version')}{superseding}",
                   d.get("team_id"), "policy_published", "policy_published", (),
                   {"policy_id": e.subject, "version": d.get("version"),
                    "document": d.get("document"), "sha256": d.get("sha256")})


def _acknowledged(e: EventEnvelope, lookup: Lookup) -> Entries:
    d = e.data
    return Entries(
        f"Policy acknowledged: {_title(lookup, 'policies', e.subject)} version "
        f"{d.get('version')}",
        d.get("team_id"), "policy_acknowledged", "policy_acknowledged", (str(d.get("member_id")),),
        {"policy_id": e.subject, "version": d.get("version")})


TELLERS: dict[tuple[str, str], Teller] = {
    (CONTEXT, "TrainingDefined"): _defined,
    (CONTEXT, "TrainingAssigned"): _assigned,
    (CONTEXT, "TrainingCompleted"): _completed,
    (CONTEXT, "PolicyPublished"): _published,
    (CONTEXT, "PolicyVersionPublished"): _published,
    (CONTEXT, "PolicyAcknowledged"): _acknowledged,
}

FOLD = timeline_fold(TELLERS)
