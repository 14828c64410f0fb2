"""An OpsLedger app on a temporary data folder, with a token per role."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api.app import create_app

SCOPED_TEAM = str(uuid4())
TOKENS = {
    "admin-token-0123456789": {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]},
    "lead-token-0123456789": {"principal": "user:lena", "roles": ["lead"], "teams": ["*"]},
    "member-token-012345678": {"principal": "user:max", "roles": ["member"], "teams": ["*"]},
    "auditor-token-01234567": {"principal": "user:audrey", "roles": ["auditor"], "teams": ["*"]},
    "service-token-01234567": {"principal": "service:billing", "roles": ["service"],
                               "teams": ["*"]},
    "scoped-token-012345678": {"principal": "user:sam", "roles": ["lead"],
                               "teams": [SCOPED_TEAM]},
}


def bearer(role: str) -> dict[str, str]:
    token = next(t for t, g in TOKENS.items() if t.startswith(role))
    return {"Authorization": f"Bearer {token}"}


class Api:
    """A test client that speaks as one role and fails loudly on surprises."""

    def __init__(self, client: TestClient, role: str = "admin") -> None:
        self.client = client
        self.headers = bearer(role)

    def as_(self, role: str) -> Api:
        return Api(self.client, role)

    def post(self, path: str, body: Any = None, expect: int | None = None,
             **headers: str) -> Any:
        r = self.client.post(path, json=body, headers={**self.headers, **headers})
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text)
        return r

    def get(self, path: str, expect: int | None = 200, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers=self.headers)
        if expect is not None:
            assert r.status_code == expect, (r.status_code, r.text)
        return r.json() if r.headers.get("content-type", "").endswith("json") else r

    def head(self) -> int:
        return int(self.client.get("/v1/events", params={"after": 0, "limit": 1},
                                   headers=bearer("admin")).json()["head"])

    # -- small builders used across tests ------------------------------------

    def team(self, name: str = "SRE", **extra: Any) -> str:
        return str(self.post("/v1/teams", {"name": name, **extra}, expect=201).json()["id"])

    def member(self, team_id: str, name: str = "Ada Lovelace", role: str = "SRE",
               **extra: Any) -> str:
        email = f"{name.split()[0].lower()}.{uuid4().hex[:6]}@example.com"
        body = {"name": name, "email": email, "role": role, **extra}
        return str(self.post(f"/v1/teams/{team_id}/members", body, expect=201).json()["id"])

    def incident(self, team_id: str, severity: str = "SEV2") -> str:
        body = {"team_id": team_id, "severity": severity, "service": "checkout",
                "summary": "Checkout latency above SLO"}
        return str(self.post("/v1/incidents", body, expect=201).json()["id"])


SCOPED_ADMIN_TOKEN = "scoped-admin-token-0123"


def with_scoped_admin(settings: Settings) -> Settings:
    """``settings`` with one more token: ``user:sue``, an admin of ``SCOPED_TEAM`` only
    (:data:`SCOPED_ADMIN_TOKEN`)."""
    tokens = json.loads(settings.tokens or "{}")
    tokens[SCOPED_ADMIN_TOKEN] = {"principal": "user:sue", "roles": ["admin"],
                                  "teams": [SCOPED_TEAM]}
    return settings.model_copy(update={"tokens": json.dumps(tokens)})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", tokens=json.dumps(TOKENS),
                    min_position_timeout=1.0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
