"""The imports command service: open an import run, finish it with its counts."""

from __future__ import annotations

from collections import Counter
from uuid import UUID, uuid4

from domain.imports.aggregate import ImportRun
from domain.ledger import CommandContext, CommandResult, Ledger

_PAGE = 1000


class ImportService:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def open(self, source: str, reason: str, ctx: CommandContext) -> CommandResult:
        return self.ledger.execute(ctx, lambda: ImportRun.open(
            uuid4(), source, reason, self.ledger.head_position(), ctx.meta), created=True)

    def finish(self, run_id: UUID, ctx: CommandContext) -> CommandResult:
        # Counted only while open. A finished run goes straight to the update, whose
        # idempotency check gives a retry (same key) its first answer, and whose own
        # check answers any other finish 409.
        run = self.ledger.load(ImportRun, run_id)
        counts = {} if run.finished else self.counts(run_id)
        return self.ledger.update(ImportRun, run_id, ctx,
                                  lambda run: run.finish(counts, ctx.meta))

    def run(self, run_id: UUID) -> ImportRun:
        return self.ledger.load(ImportRun, run_id)

    def counts(self, run_id: UUID) -> dict[str, int]:
        """The public events recorded in the run so far, per context: read from the
        event store after the position the run was opened at (no read model lag)."""
        run = self.run(run_id)
        wanted = str(run_id)
        found: Counter[str] = Counter()
        start = run.opened_after_position + 1
        while True:
            page = self.ledger.recorder.select_notifications(start=start, limit=_PAGE)
            for notification in page:
                event = self.ledger.mapper.to_domain_event(notification)
                meta = getattr(event, "meta", None) or {}
                context = getattr(type(event), "CONTEXT", "")
                if context and meta.get("import_run_id") == wanted:
                    found[context] += 1
            if len(page) < _PAGE:
                return dict(found)
            start = page[-1].id + 1
