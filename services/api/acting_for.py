"""Who may record a member's own act (a training completed, a policy acknowledged).

An acknowledgement someone else clicked is worth nothing to an auditor, so a caller
who is neither an admin nor a lead records these only for the member bound to its own
principal (``principal`` on joining, or bound later by an admin). Leads and admins
may record them for any member of their teams (a certificate handed in on paper);
the event's actor says who did.
"""

from __future__ import annotations

from uuid import UUID

from infra.auth import Grant
from services.api.bootstrap import Runtime
from services.api.problems import ProblemError

MANAGERS = frozenset({"admin", "lead"})


def require_self_or_manager(grant: Grant, member_id: UUID, rt: Runtime, what: str) -> None:
    if grant.roles & MANAGERS:
        return
    member = rt.people.directory.member(member_id)
    if member is None:
        return  # unknown: the command refuses it with its usual answer
    if member.principal != grant.principal:
        raise ProblemError(
            403, f"{grant.principal} may record {what} only for the member bound to it; "
                 "a lead or an admin records it for someone else")
