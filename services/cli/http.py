"""What the command-line clients of the HTTP API share (``opsledger demo``,
``opsledger import``): the bearer token on every request, JSON bodies serialised to
the same bytes on every run (an idempotency key's fingerprint), and a transport
failure turned into an error the command line prints without a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

try:  # the ClickException that ``opsledger`` (Typer) prints without a traceback
    from typer._click.exceptions import ClickException as ShownError  # Typer >= 0.22
except ImportError:  # pragma: no cover - Typer on top of Click
    from click import ClickException as ShownError  # type: ignore[assignment]

TIMEOUT_SECONDS = 10.0

__all__ = ["TIMEOUT_SECONDS", "BearerClient", "ShownError", "http_client"]


class BearerClient:
    """Sends requests as one token; a transport failure raises ``error`` naming what
    ``stopped`` (``the demo stopped: POST ... timed out``)."""

    def __init__(self, client: httpx.Client, token: str, url: str, *,
                 error: type[ShownError], stopped: str) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.url = url.rstrip("/")
        self.error = error
        self.stopped = stopped
        self.requests = 0

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, *,
                headers: dict[str, str] | None = None,
                params: dict[str, Any] | None = None) -> httpx.Response:
        sent = {**self.auth, **(headers or {})}
        content = None
        if body is not None:
            # serialised here, not by httpx, so the bytes (the idempotency fingerprint)
            # never depend on the client library's version
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            sent["Content-Type"] = "application/json"
        self.requests += 1
        try:
            return self.client.request(method, path, content=content, headers=sent,
                                       params=params)
        except httpx.TimeoutException as exc:
            raise self.error(f"{self.stopped}: {method} {self.url}{path} timed out "
                             f"({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise self.error(f"{self.stopped}: {method} {self.url}{path} failed: "
                             f"{exc or type(exc).__name__} (is OpsLedger running at "
                             f"{self.url}?)") from None


@contextmanager
def http_client(url: str, client: httpx.Client | None) -> Iterator[httpx.Client]:
    """The caller's client (e.g. a FastAPI ``TestClient``) as it is, else an
    ``httpx.Client`` on ``url`` with a 10 s timeout."""
    if client is not None:
        yield client  # the caller's client, its base URL and timeouts
        return
    with httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS) as own:
        yield own
