"""The demo's HTTP client: sends each step with its bearer token and idempotency key,
and turns any non-2xx answer or transport failure into a :class:`DemoError` that
names the request and the server's problem document.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from services.cli.http import TIMEOUT_SECONDS, BearerClient, ShownError, http_client

if TYPE_CHECKING:
    from services.cli.demo.plan import Step

__all__ = ["TIMEOUT_SECONDS", "Api", "DemoError", "describe_failure", "http_client"]


class DemoError(ShownError):
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


class Api(BearerClient):
    def __init__(self, client: httpx.Client, token: str, url: str) -> None:
        super().__init__(client, token, url, error=DemoError, stopped="the demo stopped")

    def send(self, method: str, path: str, body: dict[str, Any] | None = None,
             key: str = "") -> httpx.Response:
        return self.request(method, path, body, headers={"Idempotency-Key": key} if key else None)

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
