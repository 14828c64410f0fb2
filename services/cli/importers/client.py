"""The importer's HTTP client: every request with the bearer token, each command with
its idempotency key and the ``OpsLedger-Import-Run`` header, a bounded wait on
``429``/``503`` (``Retry-After``), and every answer read into what the summary says.

A transport failure, or an answer that is not OpsLedger's, stops the import with a
:class:`ImportFailed` (printed without a traceback); a refused command does not.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from services.cli.http import BearerClient, ShownError

RUN_HEADER = "OpsLedger-Import-Run"
MAX_ATTEMPTS = 6
MAX_WAIT_SECONDS = 5.0
MAX_PAGES = 10_000
KEY_REUSED = "Idempotency-Key was already used"


class ImportFailed(ShownError):
    """The import stopped (exit status 1): the message says why."""


class ImportUsageError(ShownError):
    """Bad usage (exit status 2): a missing file, an unknown team, ..."""

    exit_code = 2


@dataclass(frozen=True)
class Answer:
    status: int
    document: dict[str, Any]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def detail(self) -> str:
        return str(self.document.get("detail", ""))

    def reason(self) -> str:
        """A refusal's reason, from the problem document (the input is never echoed)."""
        title = str(self.document.get("title", "")).strip()
        text = f"{self.status} {title}".strip()
        if self.detail:
            text += f": {self.detail}"
        for error in self.document.get("errors") or []:
            if isinstance(error, dict):
                loc = ".".join(str(p) for p in error.get("loc", []) if p != "body")
                text += f"; {loc or 'body'}: {error.get('msg', '')}"
        return text


class ImportApi(BearerClient):
    def __init__(self, client: httpx.Client, token: str, url: str) -> None:
        super().__init__(client, token, url, error=ImportFailed, stopped="the import stopped")

    def send(self, method: str, path: str, body: dict[str, Any] | None = None, *,
             key: str = "", run_id: str = "", params: dict[str, Any] | None = None) -> Answer:
        headers = {}
        if key:
            headers["Idempotency-Key"] = key
        if run_id:
            headers[RUN_HEADER] = run_id
        for attempt in range(1, MAX_ATTEMPTS + 1):
            response = self.request(method, path, body, headers=headers, params=params)
            if response.status_code not in (429, 503) or attempt == MAX_ATTEMPTS:
                return Answer(response.status_code, self._document(method, path, response))
            time.sleep(_retry_after(response))
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    def _document(self, method: str, path: str, response: httpx.Response) -> dict[str, Any]:
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise ImportFailed(f"the import stopped: {method} {self.url}{path} answered "
                               f"{response.status_code} with no JSON document: "
                               f"{response.text[:300]}")
        return document

    def required(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                 key: str = "", params: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request the import cannot go on without: any refusal stops it."""
        answer = self.send(method, path, body, key=key, params=params)
        if not answer.ok:
            raise ImportFailed(f"the import stopped: {method} {self.url}{path} was refused: "
                               f"{answer.reason()}")
        return answer.document

    def head(self) -> int:
        """The event log's last position (every later position is a new event)."""
        return int(self.required("GET", "/v1/events", params={"after": 0, "limit": 1})["head"])

    def every(self, path: str) -> list[dict[str, Any]]:
        """All items of a list, page by page (bounded)."""
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        for _ in range(MAX_PAGES):
            page = self.required("GET", path, params=params)
            items += [i for i in page.get("items", []) if isinstance(i, dict)]
            if not page.get("next_cursor"):
                return items
            params = {"limit": 500, "cursor": page["next_cursor"]}
        raise ImportFailed(f"the import stopped: {path} had more than {MAX_PAGES:,} pages")


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.1), MAX_WAIT_SECONDS)
