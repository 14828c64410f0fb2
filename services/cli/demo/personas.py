"""The personas' tokens: one per persona, issued through ``POST /v1/tokens``.

A token's secret is answered once. So:

- a first run issues every persona's token and keeps the secrets in memory only (for
  its own requests; ``--save-tokens`` writes them to a private file);
- a re-run of a finished demo sends nothing and lists the tokens that exist
  (``GET /v1/tokens``), saying that their secrets were shown to the first run;
- a run that resumes an interrupted load cannot act as a persona whose secret was
  lost: it revokes that token (the reason says why) and issues another for the same
  principal. Idempotency keys are scoped to the principal, not the token, so the
  persona's earlier commands still answer their first answers, and nothing is
  appended twice.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from services.cli.demo.client import Api, DemoError, describe_failure
from services.cli.demo.clock import Clock, iso
from services.cli.demo.scenario import PERSONAS, Persona

TOKEN_DAYS = 30
"""The personas' tokens expire this long after the anchor."""
MAX_GENERATIONS = 5
"""A bound on how often one persona's token is replaced while resuming."""


@dataclass(frozen=True)
class PersonaToken:
    principal: str
    roles: list[str]
    teams: list[str]
    token_id: str
    status: str  # issued | re-issued | existing
    secret: str | None = field(default=None, repr=False)

    @property
    def note(self) -> str:
        return {
            "issued": "new",
            "re-issued": "new; lost one revoked",
            "existing": "exists",
        }[self.status]


def token_body(persona: Persona, team_ids: dict[str, str], clock: Clock) -> dict[str, Any]:
    teams = ["*"] if persona.team == "*" else [team_ids[persona.team]]
    return {"principal": persona.principal, "roles": [persona.role], "teams": teams,
            "expires_at": iso(clock.anchor + timedelta(days=TOKEN_DAYS)),
            "reason": f"OpsLedger demo persona: {persona.does}"}


def issue_tokens(api: Api, seed: int, team_ids: dict[str, str],
                 clock: Clock) -> list[PersonaToken]:
    """Issue (or, resuming, replace) every persona's token; ``api`` may then act as
    each of them."""
    tokens = []
    for persona in PERSONAS:
        token = _issue(api, seed, persona, token_body(persona, team_ids, clock))
        api.tokens[persona.principal] = str(token.secret)
        tokens.append(token)
    return tokens


def _issue(api: Api, seed: int, persona: Persona, body: dict[str, Any]) -> PersonaToken:
    key = f"demo-month-{seed}-token-{persona.principal}"
    for generation in range(MAX_GENERATIONS):
        response = api.send("POST", "/v1/tokens", body, key)
        if response.status_code == 201:
            issued = response.json()
            return PersonaToken(persona.principal, list(issued["roles"]),
                                list(issued["teams"]), str(issued["token_id"]),
                                "re-issued" if generation else "issued", str(issued["token"]))
        lost = _problem(response).get("token_id") if response.status_code == 409 else None
        if not lost:
            raise DemoError(describe_failure(f"POST {api.url}/v1/tokens for "
                                             f"{persona.principal}", response))
        _revoke(api, seed, str(lost))
        key = f"demo-month-{seed}-token-{persona.principal}-after-{lost}"
    raise DemoError(f"the demo stopped: {persona.principal}'s token was replaced "
                    f"{MAX_GENERATIONS} times; revoke the demo's tokens and run it again")


def _revoke(api: Api, seed: int, token_id: str) -> None:
    body = {"reason": "The OpsLedger demo resumed an interrupted load; this token's secret "
                      "was answered once, to the interrupted run, and is not kept"}
    response = api.send("DELETE", f"/v1/tokens/{token_id}", body,
                        f"demo-month-{seed}-revoke-{token_id}")
    if not (response.is_success or response.status_code == 409):  # 409: revoked already
        raise DemoError(describe_failure(f"DELETE {api.url}/v1/tokens/{token_id}", response))


def _problem(response: Any) -> dict[str, Any]:
    try:
        problem = response.json()
    except ValueError:
        return {}
    return problem if isinstance(problem, dict) else {}


def existing_tokens(api: Api) -> list[PersonaToken]:
    """The personas' tokens as the server lists them (metadata only, never a secret)."""
    tokens = []
    for persona in PERSONAS:
        items = api.every("/v1/tokens", principal=persona.principal)
        for item in items[-1:]:  # the latest: the one a resumed run issued, if any
            tokens.append(PersonaToken(persona.principal, list(item["roles"]),
                                       list(item["teams"]), str(item["token_id"]),
                                       "existing"))
    return tokens


def save_tokens(path: Path, tokens: list[PersonaToken]) -> int:
    """Write the secrets this run was given to ``path`` (mode 0600); answers how many."""
    shown = [{"principal": t.principal, "roles": t.roles, "teams": t.teams,
              "token_id": t.token_id, "token": t.secret} for t in tokens if t.secret]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(shown, out, indent=2)
    path.chmod(0o600)
    return len(shown)
