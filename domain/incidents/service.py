"""The incidents command service: one ledger call per command (load, change, save)."""

from __future__ import annotations

from uuid import uuid4

from domain.incidents import commands as c
from domain.incidents.aggregate import Incident
from domain.ledger import CommandContext, CommandResult, Ledger
from domain.teams.aggregate import Team
from domain.teams.directory import MemberDirectory


class IncidentService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.directory = MemberDirectory.of(ledger)

    def open(self, cmd: c.OpenIncident, ctx: CommandContext) -> CommandResult:
        def run() -> Incident:
            # Inside run: an idempotent retry must get its first answer, not "exists".
            incident_id = self.ledger.new_id(cmd.incident_id, "incident")
            team = self.ledger.first(Team, cmd.team_id)  # an incident belongs to a team that exists
            team.require_existed(ctx.meta, "an incident")
            return Incident.open(
                incident_id, cmd.team_id, cmd.severity, cmd.service, cmd.summary, ctx.meta
            )

        return self.ledger.execute(ctx, run, created=True)

    def acknowledge(self, cmd: c.Acknowledge, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx,
                                  lambda i: i.acknowledge(ctx.meta))

    def assign_responder(self, cmd: c.AssignResponder, ctx: CommandContext) -> CommandResult:
        def assign(incident: Incident) -> None:
            # Any team's member may respond (cross-team responders are normal).
            self.directory.require_active(cmd.responder_id, "responder_id")
            incident.assign_responder(cmd.responder_id, ctx.meta)

        return self.ledger.update(Incident, cmd.incident_id, ctx, assign)

    def escalate(self, cmd: c.Escalate, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx,
                                  lambda i: i.escalate(cmd.severity, cmd.reason, ctx.meta))

    def add_note(self, cmd: c.AddNote, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx,
                                  lambda i: i.add_note(cmd.text, ctx.meta))

    def mitigate(self, cmd: c.Mitigate, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx,
                                  lambda i: i.mitigate(cmd.summary, ctx.meta))

    def resolve(self, cmd: c.Resolve, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx,
                                  lambda i: i.resolve(cmd.summary, cmd.root_cause, ctx.meta))

    def publish_postmortem(self, cmd: c.PublishPostmortem, ctx: CommandContext) -> CommandResult:
        def publish(incident: Incident) -> None:
            for n, item in enumerate(cmd.action_items, start=1):
                owner_id = item.get("owner_id") if isinstance(item, dict) else None
                if owner_id:  # a missing owner is the aggregate's to refuse
                    self.directory.require_active(owner_id, f"action item {n} owner_id")
            incident.publish_postmortem(cmd.causes, cmd.action_items, ctx.meta)

        return self.ledger.update(Incident, cmd.incident_id, ctx, publish)

    def close(self, cmd: c.CloseIncident, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx, lambda i: i.close(ctx.meta))

    def record_impact_start(self, cmd: c.RecordImpactStart, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(
            Incident, cmd.incident_id, ctx,
            lambda i: i.record_impact_start(cmd.started_at, cmd.reason, ctx.meta),
        )

    def reopen(self, cmd: c.Reopen, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(Incident, cmd.incident_id, ctx,
                                  lambda i: i.reopen(cmd.reason, ctx.meta))

    def mark_duplicate(self, cmd: c.MarkDuplicate, ctx: CommandContext) -> CommandResult:
        def mark(incident: Incident) -> None:
            # Not loaded in the caller's scope: one outage is often opened by two
            # teams, and the original only has to exist.
            original = (incident if cmd.of_incident_id == cmd.incident_id
                        else self.ledger.load(Incident, cmd.of_incident_id))
            incident.mark_duplicate(original, cmd.reason, ctx.meta)

        return self.ledger.update(Incident, cmd.incident_id, ctx, mark)

    # -- action items: owners are active members of any team (cross-team follow-ups
    # are normal, as cross-team responders are, and postmortems already allow them) --

    def add_action_item(self, cmd: c.AddActionItem, ctx: CommandContext) -> CommandResult:
        item_id = cmd.item_id or uuid4()

        def add(incident: Incident) -> None:
            self.directory.require_active(cmd.owner_id, "owner_id")
            incident.add_action_item(item_id, cmd.title, cmd.owner_id, cmd.due, ctx.meta)

        return self.ledger.update(Incident, cmd.incident_id, ctx, add, answer_id=item_id,
                                  created=True)

    def complete_action_item(self, cmd: c.CompleteActionItem,
                             ctx: CommandContext) -> CommandResult:
        return self.ledger.update(
            Incident, cmd.incident_id, ctx,
            lambda i: i.complete_action_item(cmd.item_id, cmd.note, cmd.link, ctx.meta),
            answer_id=cmd.item_id)

    def reassign_action_item(self, cmd: c.ReassignActionItem,
                             ctx: CommandContext) -> CommandResult:
        def reassign(incident: Incident) -> None:
            self.directory.require_active(cmd.owner_id, "owner_id")
            incident.reassign_action_item(cmd.item_id, cmd.owner_id, cmd.reason, ctx.meta)

        return self.ledger.update(Incident, cmd.incident_id, ctx, reassign,
                                  answer_id=cmd.item_id)

    def reschedule_action_item(self, cmd: c.RescheduleActionItem,
                               ctx: CommandContext) -> CommandResult:
        return self.ledger.update(
            Incident, cmd.incident_id, ctx,
            lambda i: i.reschedule_action_item(cmd.item_id, cmd.due, cmd.reason, ctx.meta),
            answer_id=cmd.item_id)

    def cancel_action_item(self, cmd: c.CancelActionItem, ctx: CommandContext) -> CommandResult:
        return self.ledger.update(
            Incident, cmd.incident_id, ctx,
            lambda i: i.cancel_action_item(cmd.item_id, cmd.reason, ctx.meta),
            answer_id=cmd.item_id)
