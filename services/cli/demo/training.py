"""The demo's trainings and policies in business time: each training of
:data:`~services.cli.demo.curriculum.TRAININGS` defined, assigned by hand where the
story says so and completed; each policy of :data:`~services.cli.demo.curriculum.POLICIES`
published, updated to version 2 and acknowledged.

Who does what: the team's lead (at that time) defines trainings, assigns them and
publishes policies (roles admin and lead only); a completion or an acknowledgement is
the member's own, with the member's persona, since a member-role token records them
only for the member bound to its principal; for a member without a persona the lead
records it. The role changes of :data:`~services.cli.demo.scenario.ROLE_CHANGES` are
not repeated here: the server assigns the trainings a new role requires by itself.

A completion's business time is its ``completed_at`` (the server insists). Nothing is
drawn from the planner's random generator, so adding this left the rest of the month
as it was; acknowledgement days follow from the member's place in the roster.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from domain.people.policy import policy_id_of
from services.cli.demo.clock import iso
from services.cli.demo.curriculum import (
    LATE_DAYS,
    POLICIES,
    TRAININGS,
    VERSIONS,
    PolicyStory,
    TrainingStory,
)

if TYPE_CHECKING:
    from services.cli.demo.plan import Planner

DOCUMENTS = "https://docs.opsledger.example/policies"
EVIDENCE = "https://learn.opsledger.example/certificates"


def document_of(story: PolicyStory, version: str) -> tuple[str, str]:
    """A version's document link and the SHA-256 of its (made-up) content."""
    content = f"{story.title}, version {version}\n".encode()
    return f"{DOCUMENTS}/{story.slug}-v{version}.pdf", hashlib.sha256(content).hexdigest()


class TrainingPlanner:
    def __init__(self, planner: Planner) -> None:
        self.p = planner
        self.clock = planner.clock
        self.training_ids = {t.key: planner.uid("training", t.key) for t in TRAININGS}
        self.policy_ids = {s.team: str(policy_id_of(UUID(planner.team_ids[s.team]), s.title))
                           for s in POLICIES}

    def plan(self) -> None:
        for story in TRAININGS:
            self.training(story)
        for policy in POLICIES:
            self.policy(policy)

    def own_or_lead(self, team: str, member: str, at: datetime) -> str:
        return self.p.persona.get(member) or self.p.lead_persona(team, at)

    # -- trainings

    def training(self, t: TrainingStory) -> None:
        p, clock = self.p, self.clock
        training_id = self.training_ids[t.key]
        at = clock.at(t.day, t.hour)
        p.add("trainings", "POST", "/v1/trainings", {
            "team_id": p.team_ids[t.team], "title": t.title,
            "required_for_roles": list(t.roles), "valid_for_days": t.valid_for_days,
            "training_id": training_id,
        }, p.lead_persona(t.team, at), at)
        for member, day, due in t.by_hand:
            at = clock.at(day, 9.5)
            p.add("training_assignments", "POST",
                  f"/v1/members/{p.member_ids[member]}/trainings",
                  {"training_id": training_id, "due": clock.day_iso(due)},
                  p.lead_persona(t.team, at), at)
        for member, day, hour in t.done:
            at = clock.at(day, hour)
            p.add("trainings_completed", "POST",
                  f"/v1/members/{p.member_ids[member]}/trainings/{training_id}/complete",
                  {"completed_at": iso(at),
                   "evidence": f"{EVIDENCE}/{t.key}/{p.member_ids[member]}"},
                  self.own_or_lead(t.team, member, at), at)

    # -- policies

    def policy(self, s: PolicyStory) -> None:
        p, clock = self.p, self.clock
        for version, (day, hour) in zip(VERSIONS, (s.published, s.updated), strict=True):
            at = clock.at(day, hour)
            document, sha256 = document_of(s, version)
            p.add("policies" if version == VERSIONS[0] else "policy_versions", "POST",
                  "/v1/policies", {"team_id": p.team_ids[s.team], "title": s.title,
                                   "version": version, "document": document,
                                   "sha256": sha256}, p.lead_persona(s.team, at), at)
            self.acknowledgements(s, version, day)

    def acknowledgements(self, s: PolicyStory, version: str, published: int) -> None:
        p, clock = self.p, self.clock
        first = version == VERSIONS[0]
        never = s.never_v1 if first else s.never_v2
        for m, member in enumerate(p.roster[s.team]):
            if member in never:
                continue
            late = first and member in s.late_v1
            day = published + (LATE_DAYS if late else 1 + m % (5 if first else 4))
            at = clock.at(day, 9.0 + 0.75 * m)
            if member not in p.active(s.team, at):
                continue  # gone before they got to it
            p.add("policy_acknowledgements", "POST",
                  f"/v1/members/{p.member_ids[member]}/policy-acknowledgements",
                  {"policy_id": self.policy_ids[s.team], "version": version},
                  self.own_or_lead(s.team, member, at), at)
