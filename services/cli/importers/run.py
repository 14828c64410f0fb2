"""The declared import run the commands are sent in, and what each answer means.

Re-running an import appends nothing, whatever happened before:

- the run is opened with an idempotency key derived from the file's bytes, its
  format, source and reason (``...:<attempt>``): the same file gets the same run back;
- every command carries a key derived from the source's ids, so a command already
  recorded answers its first answer again, with the position it got then: an answer
  at or below the log's head when the import started is *already there*;
- a command recorded in another run (an earlier, overlapping file) is refused by the
  API as a key reused for another request: it is already there too;
- when the same file's run is finished and a command is new (it was refused before
  and can now be recorded), the next attempt's run is opened for it, and finished at
  the end with its counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from services.cli.importers.client import KEY_REUSED, Answer, ImportApi, ImportFailed
from services.cli.importers.plan import Request, idempotency_key

MAX_RUNS = 1_000


@dataclass(frozen=True)
class Outcome:
    status: str  # "imported", "already there" or "refused"
    reason: str = ""


IMPORTED, ALREADY = Outcome("imported"), Outcome("already there")


@dataclass(frozen=True)
class FinishedRun:
    import_run_id: str
    events_recorded: int
    by_context: dict[str, int]


@dataclass
class ImportRun:
    """The run (or, after a finished one, the runs) an import's commands join."""

    api: ImportApi
    source: str
    reason: str
    fingerprint: str
    head: int
    """The log's head before the import: any answer at or below it was recorded before."""
    run_id: str = ""
    attempt: int = 0
    finished: bool = False
    ours: list[str] = field(default_factory=list)
    """The runs this import opened (or found open): it finishes them."""
    seen: list[str] = field(default_factory=list)

    def open(self) -> None:
        if self.attempt >= MAX_RUNS:
            raise ImportFailed(f"the import stopped: {MAX_RUNS} import runs of this file "
                               "are finished already")
        self.attempt += 1
        answer = self.api.required(
            "POST", "/v1/imports", {"source": self.source, "reason": self.reason},
            key=idempotency_key("run", self.fingerprint, str(self.attempt)))
        self.run_id = str(answer["import_run_id"])
        self.seen.append(self.run_id)
        self.finished = False
        if int(answer["position"]) <= self.head:  # opened by an earlier import of this file
            shown = self.api.required("GET", f"/v1/imports/{self.run_id}")
            self.finished = shown.get("status") == "finished"
        if not self.finished:
            self.ours.append(self.run_id)

    def send(self, request: Request) -> Outcome:
        for _ in range(MAX_RUNS):
            answer = self.api.send(request.method, request.path, request.body,
                                   key=request.key, run_id=self.run_id)
            if answer.ok:
                return IMPORTED if int(answer.document.get("position", 0)) > self.head \
                    else ALREADY
            if self.finished and self._is_finished(answer):
                self.open()  # a new fact of a file imported before: the next run
                continue
            if answer.status == 422 and KEY_REUSED in answer.detail:
                return ALREADY  # recorded in another import run
            return Outcome("refused", answer.reason())
        raise ImportFailed("the import stopped: no import run would take the command "
                           f"of {request.where}")  # pragma: no cover - open() stops first

    def _is_finished(self, answer: Answer) -> bool:
        return answer.status == 409 and f"import run {self.run_id} is finished" in answer.detail

    def finish(self) -> list[FinishedRun]:
        done = []
        for run_id in self.ours:
            answer: dict[str, Any] = self.api.required(
                "POST", f"/v1/imports/{run_id}/finish", {},
                key=idempotency_key("run", run_id, "finish"))
            done.append(FinishedRun(run_id, int(answer.get("events_recorded", 0)),
                                    dict(answer.get("by_context") or {})))
        return done
