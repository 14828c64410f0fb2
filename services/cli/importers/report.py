"""What an import did, counted as it goes and printed at the end: read, imported,
already there and refused (each refusal with where and why), the people the source
names who are no OpsLedger members, the source records that map to no command, and
the import runs with their recorded counts."""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from services.cli.importers.plan import Request, Unit
from services.cli.importers.run import FinishedRun, Outcome

SHOWN = 50
"""Refusals and unknown people printed at most (all are in the report object)."""


@dataclass
class Tally:
    read: int = 0
    imported: int = 0
    already_there: int = 0
    refused: int = 0

    def count(self, status: str) -> None:
        self.read += 1
        if status == "imported":
            self.imported += 1
        elif status == "already there":
            self.already_there += 1
        else:
            self.refused += 1


@dataclass(frozen=True)
class Refusal:
    where: str
    reason: str


@dataclass
class ImportReport:
    format: str
    unit_name: str
    """What the file is counted in: ``lines``, ``incidents``."""
    units: Tally = field(default_factory=Tally)
    commands: Tally = field(default_factory=Tally)
    by_command: dict[str, int] = field(default_factory=dict)
    """Commands imported (new), by command."""
    refusals: list[Refusal] = field(default_factory=list)
    unknown_people: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Who -> (why, how many commands named them)."""
    not_mapped: dict[str, int] = field(default_factory=dict)
    runs: list[FinishedRun] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    requests: int = 0
    elapsed_seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Everything imported or already there: nothing refused."""
        return not self.refusals

    def unit_refused(self, unit: Unit, reason: str, where: str = "") -> None:
        self.units.count("refused")
        self.refusals.append(Refusal(where or unit.where, reason))

    def command(self, request: Request, outcome: Outcome) -> None:
        self.commands.count(outcome.status)
        if outcome.status == "imported":
            self.by_command[request.kind] = self.by_command.get(request.kind, 0) + 1
        elif outcome.status == "refused":
            legend = f" ({request.legend})" if request.legend else ""
            self.refusals.append(Refusal(request.where, outcome.reason + legend))

    def noted(self, unit: Unit) -> None:
        for person in unit.unknown_people:
            _, times = self.unknown_people.get(person.who, (person.why, 0))
            self.unknown_people[person.who] = (person.why, times + 1)
        for kind, n in unit.not_mapped.items():
            self.not_mapped[kind] = self.not_mapped.get(kind, 0) + n


def print_report(console: Console, report: ImportReport) -> None:
    table = Table(title=f"opsledger import ({report.format})")
    table.add_column("")
    columns = [(report.unit_name, report.units)]
    if report.unit_name != "lines":  # a line is one command
        columns.append(("commands", report.commands))
    for name, _ in columns:
        table.add_column(name, justify="right")
    for label, attr in (("read", "read"), ("imported", "imported"),
                        ("already there", "already_there"), ("refused", "refused")):
        table.add_row(label, *(str(getattr(tally, attr)) for _, tally in columns))
    console.print(table)
    if report.by_command:
        console.print("imported: " + ", ".join(f"{k} {v}" for k, v in
                                               sorted(report.by_command.items())))
    _print_refusals(console, report)
    if report.unknown_people:
        console.print(f"[bold]unknown people[/] ({len(report.unknown_people)}; not assigned, "
                      "never invented):")
        for who, (why, times) in sorted(report.unknown_people.items())[:SHOWN]:
            console.print(f"  {who}: {why} (named {times} times)", highlight=False, markup=False)
    if report.not_mapped:
        console.print("not mapped (no OpsLedger command): " + ", ".join(
            f"{k} {v}" for k, v in sorted(report.not_mapped.items())))
    for run in report.runs:
        console.print(f"import run {run.import_run_id} finished: {run.events_recorded} "
                      f"events recorded {run.by_context or ''}".rstrip())
    if not report.runs and report.run_ids:
        console.print(f"import run {report.run_ids[0]} was finished before: nothing new")
    console.print(f"{report.requests} requests in {report.elapsed_seconds:.1f} s")


def _print_refusals(console: Console, report: ImportReport) -> None:
    if not report.refusals:
        return
    console.print(f"[bold red]refused[/] ({len(report.refusals)}):")
    for refusal in report.refusals[:SHOWN]:
        console.print(f"  {refusal.where}: {refusal.reason}", highlight=False, markup=False)
    if len(report.refusals) > SHOWN:
        console.print(f"  ... and {len(report.refusals) - SHOWN} more")
