"""An import run: a declared backfill, opened by an admin with its source and reason.

Commands sent in an open run (header ``OpsLedger-Import-Run``) may say they happened
at any past time without raising the ``backdated_entry`` control: the run declares
that history is being brought in. Finishing the run records how much was brought.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from domain.aggregate import LedgerAggregate, require_reason
from domain.errors import DomainError, ValidationError
from domain.meta import CommandMeta


class ImportRunFinishedError(DomainError):
    """A command names an import run that is already finished (409)."""


class ImportRun(LedgerAggregate):
    CONTEXT = "imports"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        source: str
        reason: str
        opened_by: str
        opened_after_position: int
        finished: bool
        events_recorded: int
        by_context: dict[str, int]

    class ImportRunOpened(LedgerAggregate.Created):
        """An import run was opened: from which source, why, and after which position
        of the ledger (every event recorded in it comes later)."""

        source: str
        reason: str
        opened_after_position: int

        def apply(self, run: ImportRun) -> None:
            run.source = self.source
            run.reason = self.reason
            run.opened_by = str(self.meta.get("actor", ""))
            run.opened_after_position = self.opened_after_position
            run.finished = False
            run.events_recorded = 0
            run.by_context = {}

    class ImportRunFinished(LedgerAggregate.Event):
        """An import run was closed, with the events recorded in it, per context."""

        events_recorded: int
        by_context: dict[str, int]

        def apply(self, run: ImportRun) -> None:
            run.finished = True
            run.events_recorded = self.events_recorded
            run.by_context = dict(self.by_context)

    # -- commands -------------------------------------------------------------

    @classmethod
    def open(
        cls, run_id: UUID, source: str, reason: str, opened_after_position: int,
        meta: CommandMeta,
    ) -> ImportRun:
        source = source.strip()
        if not source:
            raise ValidationError("an import run needs a source (where the history comes from)")
        if meta.import_run_id:
            raise ValidationError("an import run can't be opened inside another one")
        return cls._start(
            cls.ImportRunOpened, run_id, meta, source=source,
            reason=require_reason(reason, "opening an import run"),
            opened_after_position=opened_after_position,
        )

    def finish(self, by_context: dict[str, int], meta: CommandMeta) -> None:
        self.require_open()
        counts = {context: n for context, n in sorted(by_context.items()) if n}
        self._record(self.ImportRunFinished, meta,
                     events_recorded=sum(counts.values()), by_context=counts)

    # -- queries --------------------------------------------------------------

    def require_open(self) -> None:
        if self.finished:
            raise ImportRunFinishedError(
                f"import run {self.id} is finished ({self.events_recorded} events recorded); "
                "open another to import more")
