"""The demo's HTTP client: sends each step with its bearer token and idempotency key,
and turns any non-2xx answer or transport failure into a :class:`DemoError` that
names the request and the server's problem document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from services.cli.demo.plan import Step

TIMEOUT_SECONDS = 10.0


try:  # the ClickException that ``opsledger`` (Typer) prints without a traceback
    from typer._click.exceptions import ClickException as _ShownError  # Typer >= 0.22
except ImportError:  # pragma: no cover - Typer on top of Click
    from click import ClickException as _ShownError  # type: ignore[assignment]


class DemoError(_ShownError):
    """The demo stopped: the message names the request and the server's answer.

    A ``ClickException``, so ``opsledger demo`` prints it cleanly and exits 1.
    """


def describe_failure(step_or_request: str, response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict):
        lines = [f"  status: {response.status_code} {problem.get('title', '')}".rstrip(),
                 f"  detail: {problem.get('detail', '')}"]
        for error in problem.get("errors") or []:
            lines.append(f"  error:  {error}")
        document = json.dumps(problem, ensure_ascii=False)
        lines.append(f"  problem document: {document[:2000]}")
    else:
        lines = [f"  status: {response.status_code}", f"  body: {response.text[:2000]}"]
    return f"the demo stopped: {step_or_request}\n" + "\n".join(lines)


class Api:
    def __init__(self, client: httpx.Client, token: str, url: str) -> None:
        self.client = client
        self.auth = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.url = url.rstrip("/")
        self.requests = 0

    def send(self, method: str, path: str, body: dict[str, Any] | None = None,
             key: str = "") -> httpx.Response:
        headers = dict(self.auth)
        content = None
        if body is not None:
            # serialised here, not by httpx, so the bytes (the idempotency fingerprint)
            # never depend on the client library's version
            content = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        if key:
            headers["Idempotency-Key"] = key
        self.requests += 1
        try:
            return self.client.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException as exc:
            raise DemoError(f"the demo stopped: {method} {self.url}{path} timed out "
                            f"({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise DemoError(f"the demo stopped: {method} {self.url}{path} failed: "
                            f"{exc or type(exc).__name__} (is OpsLedger running at "
                            f"{self.url}?)") from None

    def command(self, step: Step) -> dict[str, Any]:
        response = self.send(step.method, step.path, step.body, step.key)
        if not response.is_success:
            body = "" if step.body is None else json.dumps(step.body, ensure_ascii=False)
            request = (f"{step.method} {self.url}{step.path} (Idempotency-Key: {step.key})"
                       + (f"\n  body: {body[:2000]}" if body else ""))
            raise DemoError(describe_failure(request, response))
        answer = response.json()
        if not isinstance(answer, dict) or "position" not in answer:
            raise DemoError(f"the demo stopped: {step.method} {self.url}{step.path} answered "
                            f"{response.status_code} without a command answer: "
                            f"{response.text[:500]}")
        return answer


@contextmanager
def http_client(url: str, client: httpx.Client | None) -> Iterator[httpx.Client]:
    if client is not None:
        yield client  # the caller's client, its base URL and timeouts
        return
    with httpx.Client(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS) as own:
        yield own
