"""What ``opsledger demo`` prints: its progress, then what it made (the import run, the
personas and their tokens, the commands, the late entries, the action items by
status, the control versions added, the controls' findings by state with the policy
version that judged them, the decisions on findings, the risk register with its heat
map and the contingency plans, the training matrix and the policies' acknowledgements,
and each team's figures)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from projections.times import parse_time
from services.cli.demo.clock import iso
from services.cli.demo.figures import ITEM_STATUSES, REPORTED, STATES, Figures
from services.cli.demo.people_figures import PeopleFigures
from services.cli.demo.risk_figures import RISK_STATUSES, RiskFigures
from services.cli.demo.scenario import TEAMS

if TYPE_CHECKING:
    from services.cli.demo import DemoSummary


def progress(console: Console) -> Progress:
    return Progress(TextColumn("[progress.description]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TaskProgressColumn(), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=console, transient=False)


def _teams(teams: list[str], names: dict[str, str]) -> str:
    return ", ".join("every team" if t == "*" else names.get(t, t) for t in teams)


def print_summary(console: Console, summary: DemoSummary, saved_to: Path | None) -> None:
    names = dict(zip(summary.team_ids, (t["name"] for t in TEAMS), strict=True))
    if summary.already_loaded:
        console.print(f"The demo month (anchor {summary.anchor}) is already loaded: import "
                      f"run {summary.import_run_id} is finished. Nothing was sent and "
                      "nothing appended.")
    else:
        console.print(f"Loaded five weeks ending {summary.anchor}: {summary.commands_sent} "
                      f"commands in import run {summary.import_run_id}, then finished it.")
    console.print(f"Import run: {summary.run_events} events recorded "
                  f"({', '.join(f'{c} {n}' for c, n in sorted(summary.run_by_context.items()))})")

    tokens = Table(title="Personas and their tokens (POST /v1/tokens)")
    for column in ("principal", "role", "teams", "token id", "token"):
        tokens.add_column(column, no_wrap=column in ("principal", "token id"))
    for t in summary.tokens:
        tokens.add_row(t.principal, ", ".join(t.roles), _teams(t.teams, names),
                       t.token_id[:8], t.note)
    console.print(tokens)
    console.print("A token's secret is answered once, when it is issued: a re-run lists the "
                  "tokens, and a resumed run revokes those whose secret it lost.")
    if saved_to is not None:
        console.print(f"{summary.tokens_saved} token secrets written to {saved_to} "
                      "(mode 0600)")
    elif any(t.secret for t in summary.tokens):
        console.print("Token secrets are not printed: run with --save-tokens FILE to keep "
                      "them, or issue your own with POST /v1/tokens.")

    made = Table(title="The month's commands, by kind")
    made.add_column("what")
    made.add_column("commands", justify="right")
    for kind, count in summary.counts.items():
        made.add_row(kind.replace("_", " "), str(count))
    console.print(made)
    console.print(f"Late entries, outside the import run: {len(summary.late_entries)} "
                  f"({', '.join(sorted({s.kind for s in summary.late_entries}))}), each "
                  "happened hours before it was entered")

    figures = summary.figures
    print_follow_ups(console, figures)
    print_compliance(console, figures)
    print_risks(console, figures.risks)
    print_people(console, figures.people)

    teams = Table(title="Teams (GET /v1/incidents, .../metrics?period=week)")
    for column in ("team", "incidents", "median time to acknowledge", "weeks with incidents"):
        teams.add_column(column, justify="left" if column == "team" else "right")
    for team in figures.teams:
        tta = "-" if team.median_tta_minutes is None else f"{team.median_tta_minutes} min"
        teams.add_row(team.name, str(team.incidents), tta, str(team.weekly_periods))
    console.print(teams)
    console.print(f"Actors in the audit trail: {len(figures.actors)} "
                  f"({', '.join(figures.actors)})")
    console.print(f"requests: {summary.requests}   last position: {summary.last_position}   "
                  f"elapsed: {summary.elapsed_seconds:.1f} s")


def print_follow_ups(console: Console, figures: Figures) -> None:
    f = figures.follow_ups
    items = Table(title="Action items (GET /v1/action-items)")
    for status in ITEM_STATUSES:
        items.add_column(status, justify="right")
    items.add_row(*(str(f.by_status.get(s, 0)) for s in ITEM_STATUSES))
    console.print(items)
    console.print(f"Done late (their action_item_overdue finding resolved late): "
                  f"{f.done_late}; due dates moved: {f.moved} ({f.moved_after_due} after "
                  f"they had passed: evidence on the finding); reassigned: {f.reassigned}")


def _decision(d: dict[str, Any]) -> str:
    until = f" until {d['until'][:10]}" if d.get("until") else ""
    return f"{d['kind'].replace('_', ' ')} by {d['by']} on {d['at'][:10]}{until}"


def print_compliance(console: Console, figures: Figures) -> None:
    console.print("Control versions added (GET /v1/compliance/controls):")
    for v in figures.versions:
        thresholds = ", ".join(f"{k} {n}" for k, n in sorted(v["thresholds"].items()))
        console.print(f"  {v['control']} version {v['version']} by {v['by']}, effective "
                      f"from {iso(parse_time(v['effective_from']))}: {thresholds}\n"
                      f"    why: {v['reason']}")

    controls = Table(title="Compliance findings by state (GET /v1/compliance/findings)")
    for column in ("control", *(s.replace("_", " ") for s in STATES)):
        controls.add_column(column, justify="left" if column == "control" else "right",
                            no_wrap=column == "control")
    for control in REPORTED:
        tally = figures.findings.get(control, {})
        controls.add_row(control, *(str(tally.get(s, 0)) for s in STATES))
    console.print(controls)
    for control, judged in figures.judged_by.items():
        if set(judged) != {1}:
            console.print(f"{control} findings judged by " + ", ".join(
                f"policy version {v}: {n}" for v, n in sorted(judged.items())))

    console.print("Decisions on findings (POST /v1/compliance/findings/{id}/waive, "
                  "/accept-risk, /reopen):")
    for finding in figures.decided:
        console.print(f"  {finding['id']} is {finding['state']}: "
                      + "; ".join(_decision(d) for d in finding["decisions"]))


def print_risks(console: Console, risks: RiskFigures) -> None:
    register = Table(title="Risk register (GET /v1/risks, /v1/contingency-plans)")
    for column in ("team", "risks", "high (residual 15+)", "plans", "drills",
                   "incidents linked"):
        register.add_column(column, justify="left" if column == "team" else "right")
    for team in risks.teams:
        register.add_row(team.name, str(team.risks), str(team.high), str(team.plans),
                         str(team.drills), str(team.incidents))
    console.print(register)
    console.print("Risks by status: " + ", ".join(
        f"{s} {risks.by_status.get(s, 0)}" for s in RISK_STATUSES))

    heat = Table(title=f"Heat map of the {risks.mapped} risks not closed "
                       "(GET /v1/risks/heatmap): inherent / residual")
    heat.add_column("likelihood")
    for impact in range(1, 6):
        heat.add_column(f"impact {impact}", justify="center")
    for likelihood in range(5, 0, -1):
        cells = [risks.heatmap.get((likelihood, impact), (0, 0)) for impact in range(1, 6)]
        heat.add_row(str(likelihood), *(f"{i} / {r}" if i or r else "." for i, r in cells))
    console.print(heat)

    for plan in risks.plans:
        console.print(f"Plan '{plan['title']}': version {plan['plan_version']} "
                      f"({plan['versions']} kept), {plan['drills']} drill(s), incidents "
                      f"linked: {plan['followed']} plan followed, {plan['not_followed']} "
                      "not followed")
    for approval in risks.acceptances:
        console.print(f"Acceptance of '{approval['risk']}' (owner {approval['owner']}): "
                      f"approver {approval['approver']}, recorded by "
                      f"{approval['recorded_by']}")


def print_people(console: Console, people: PeopleFigures) -> None:
    matrix = Table(title="Training matrix (GET /v1/trainings/matrix): member x training "
                         "cells; done = still valid; by role = assigned by a role")
    for column in ("team", "trainings", "members", "assigned", "done", "overdue", "expired",
                   "by role"):
        matrix.add_column(column, justify="left" if column == "team" else "right")
    for t in people.teams:
        matrix.add_row(t.name, *(str(n) for n in (t.trainings, t.members, t.assigned, t.done,
                                                  t.overdue, t.expired, t.by_role)))
    console.print(matrix)
    policies = Table(title="Policy acknowledgements of the version in force (GET /v1/policies)")
    for column in ("team", "policy", "version", "versions", "acknowledged", "pending"):
        policies.add_column(column, justify="left" if column in ("team", "policy") else "right")
    for p in people.policies:
        policies.add_row(p.team, p.title, p.current_version, str(p.versions),
                         str(p.acknowledged), str(p.pending))
    console.print(policies)
    console.print("Trainings: " + ", ".join(
        f"{what} {sum(getattr(t, what) for t in people.teams)}"
        for what in ("assigned", "done", "overdue", "expired"))
        + f"; policies: {len(people.policies)}, acknowledgements pending "
          f"{sum(p.pending for p in people.policies)}")
