"""A command refused because the event store's writer queue is full is a 503 problem
with Retry-After (overload: nothing was stored, the same command may be sent again),
never a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.event_store.group_commit import WriterBusyError
from services.api import problems


def _app_whose_writer_is_busy() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.post("/v1/feedback")
    def give() -> None:
        raise WriterBusyError("4096 commands are already waiting to be stored")

    return app


def test_a_full_writer_queue_answers_503_with_retry_after() -> None:
    answer = TestClient(_app_whose_writer_is_busy()).post("/v1/feedback")

    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "1"
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    problem = answer.json()
    assert problem["status"] == 503
    assert "nothing was stored" in problem["detail"]
    assert "Traceback" not in answer.text
