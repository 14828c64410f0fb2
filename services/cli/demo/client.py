"""The demo's HTTP client: sends each step with its actor's bearer token, its
idempotency key and (inside the import run) the ``OpsLedger-Import-Run`` header, and
turns any unexpected answer or transport failure into a :class:`DemoError` that names
the request and the server's problem document.
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
    """Sends as the admin running the demo, or as a persona whose token it holds."""

    def __init__(self, client: httpx.Client, token: str, url: str) -> None:
        super().__init__(client, token, url, error=DemoError, stopped="the demo stopped")
        self.tokens: dict[str, str] = {"": token}  # actor -> secret; "" is the admin

    def send(self, method: str, path: str, body: dict[str, Any] | None = None,
             key: str = "", *, actor: str = "", run_id: str = "",
             params: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[actor]}"}
        if key:
            headers["Idempotency-Key"] = key
        if run_id:
            headers["OpsLedger-Import-Run"] = run_id
        return self.request(method, path, body, headers=headers, params=params)

    def get(self, path: str, *, actor: str = "", **params: Any) -> dict[str, Any]:
        """A query's JSON answer; anything but 200 stops the demo."""
        response = self.send("GET", path, actor=actor, params=params)
        if response.status_code != 200:
            raise DemoError(describe_failure(f"GET {self.url}{path}", response))
        answer = response.json()
        if not isinstance(answer, dict):
            raise DemoError(f"the demo stopped: GET {self.url}{path} answered {answer!r}")
        return answer

    def every(self, path: str, *, actor: str = "", bound: int = 200,
              **params: Any) -> list[dict[str, Any]]:
        """Every item of a list query, page by page (at most ``bound`` pages)."""
        items: list[dict[str, Any]] = []
        query = {"limit": 500, **params}
        for _ in range(bound):
            page = self.get(path, actor=actor, **query)
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            query["cursor"] = page["next_cursor"]
        raise DemoError(f"the demo stopped: {path} had more than {bound} pages")

    def command(self, step: Step, run_id: str = "") -> dict[str, Any]:
        """Send one planned step as its actor (inside the import run if it is one)."""
        response = self.send(step.method, step.path, step.body, step.key, actor=step.actor,
                             run_id=run_id if step.in_run else "")
        return self.answer(response, step.method, step.path, step.body, step.key, step.actor)

    def answer(self, response: httpx.Response, method: str, path: str,
               body: dict[str, Any] | None, key: str, actor: str = "") -> dict[str, Any]:
        if not response.is_success:
            shown = "" if body is None else json.dumps(body, ensure_ascii=False)
            request = (f"{method} {self.url}{path} as {actor or 'the admin token'} "
                       f"(Idempotency-Key: {key})"
                       + (f"\n  body: {shown[:2000]}" if shown else ""))
            raise DemoError(describe_failure(request, response))
        answer = response.json()
        if not isinstance(answer, dict) or "position" not in answer:
            raise DemoError(f"the demo stopped: {method} {self.url}{path} answered "
                            f"{response.status_code} without a command answer: "
                            f"{response.text[:500]}")
        return answer
