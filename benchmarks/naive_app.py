"""The naive baseline of ``benchmarks.api_bench``: FastAPI calling eventsourcing's
``Application.save()`` once per request on SQLite, and nothing else (no auth, no read
models, no idempotency, no hash chain).

    NAIVE_DB=/tmp/naive.sqlite python -m uvicorn benchmarks.naive_app:app --port 8001
"""

from __future__ import annotations

import os
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from fastapi import FastAPI
from pydantic import BaseModel


class Feedback(Aggregate):
    def __init__(self, kind: str, team_id: str, text: str, score: int | None) -> None:
        self.kind = kind
        self.team_id = team_id
        self.text = text
        self.score = score


class Body(BaseModel):
    kind: str
    team_id: UUID
    text: str
    score: int | None = None


ledger = Application(env={
    "PERSISTENCE_MODULE": "eventsourcing.sqlite",
    "SQLITE_DBNAME": os.environ.get("NAIVE_DB", "naive.sqlite"),
})
app = FastAPI(title="naive baseline")


@app.post("/v1/feedback", status_code=201)
def give_feedback(body: Body) -> dict[str, Any]:
    item = Feedback(body.kind, str(body.team_id), body.text, body.score)
    recordings = ledger.save(item)
    return {"id": str(item.id), "version": item.version,
            "position": recordings[-1].notification.id}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
