"""The HTTP contract, fuzzed: schemathesis over the ASGI app, every operation, all checks.

Given the app on a fresh temporary data folder, with an admin token for all teams and a
little state (a team with two members, a goal, an incident, feedback), when schemathesis
sends each operation its coverage cases and 25 fuzzed examples (valid and invalid
input; 45 to 150 requests for every operation that takes input, 10 for the three
that take none), then every answer is one the OpenAPI document declares: no server
error, no undocumented status, content type or header, no schema-valid request
refused, no invalid one accepted, and no answer that breaks its schema.

The run is deterministic (derandomized generation, a fixed seed, no example database)
so CI sees the same requests each time. It takes about 20 s for the 45 operations on
a 2-core machine; re-run one operation with
``pytest tests/e2e/test_fuzz_openapi.py -k 'POST /v1/goals'``.
"""

from __future__ import annotations

import itertools
import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import schemathesis
from fastapi.testclient import TestClient
from schemathesis.python.asgi import shutdown_lifespans

from domain.envelope import moment_of
from infra.settings import Settings
from services.api.app import create_app

ADMIN = "fuzz-admin-token-0123456789"
TOKENS = {ADMIN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}}
AUTH = {"Authorization": f"Bearer {ADMIN}"}
EXAMPLES_PER_OPERATION = 25

# A valid request may still meet a precondition that no longer holds: a stale If-Match
# (412) is the contract working, like a 409, not valid data refused.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx"]
# The contract answers 422 for a well-formed value that names nothing (a member id no
# member has, as owner, responder, action-item owner or subject) or names a time that
# has passed (a token's expiry, a control policy's effective_from), or for thresholds
# other than the named control's own. A schema cannot say which ids exist, what time
# it is, or which control has which thresholds, so on these operations a generated
# value that does is the exception, and 422 counts as an answer to a valid request.
# The risks context's are of the same kinds: an owner, approver or participant that
# is no member, risks (risk_ids, risk_id, plan_id) that do not exist or are of another
# team, a review date or a drill's held_at in the past or future; and the rules that
# tie two fields of a body together (a residual score above the inherent one, a plan
# for every treatment but accept, a link naming a risk or a plan and plan_followed
# with its plan). The people context's: a member of another team, a training or policy
# that does not exist, a due date in the past, a completion in the future, a role named
# twice, a policy version that does not exist.
STATE_DEPENDENT_422 = [
    "POST /v1/goals",
    "POST /v1/incidents/{incident_id}/assign",
    "POST /v1/incidents/{incident_id}/postmortem",
    "POST /v1/incidents/{incident_id}/action-items",
    "POST /v1/incidents/{incident_id}/action-items/{item_id}/reassign",
    "POST /v1/feedback",
    "POST /v1/feedback/{feedback_id}/triage",
    "POST /v1/tokens",
    "PUT /v1/compliance/controls/{control}",
    "POST /v1/risks",
    "POST /v1/risks/{risk_id}/assess",
    "POST /v1/risks/{risk_id}/treat",
    "POST /v1/risks/{risk_id}/accept",
    "POST /v1/contingency-plans",
    "POST /v1/contingency-plans/{plan_id}/exercise",
    "POST /v1/incidents/{incident_id}/links",
    "POST /v1/trainings",
    "POST /v1/members/{member_id}/trainings",
    "POST /v1/members/{member_id}/trainings/{training_id}/complete",
    "POST /v1/members/{member_id}/policy-acknowledgements",
]

CONFIG = schemathesis.Config.from_dict({
    "seed": 20260,
    "checks": {
        "enabled": True,
        "positive_data_acceptance": {"expected-statuses": ACCEPTED},
    },
    "operations": [{
        "include-name": STATE_DEPENDENT_422,
        "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
    }],
    "generation": {
        "max-examples": EXAMPLES_PER_OPERATION,
        "deterministic": True,
        "database": "none",
        # The token is sent with each call (below); generated bearer tokens would only
        # be replaced by it.
        "with-security-parameters": False,
    },
})

pytestmark = pytest.mark.slow


# The app is made at import, but opens nothing until its lifespan starts: its data
# folder (fresh, under the system temp folder) is created on the first request.
DATA_DIR = Path(tempfile.gettempdir()) / f"opsledger-fuzz-{uuid4().hex}"
SETTINGS = Settings(
    data_dir=DATA_DIR / "data", tokens=json.dumps(TOKENS), min_position_timeout=0.2,
    # `ignored_auth` sends every operation a wrong token once, all from one client
    # address: the failed-authentication limit stays on, but far above that.
    auth_failure_limit=100_000,
)
APP = create_app(SETTINGS)

# Loaded from the app's document and bound to the app, as `from_asgi` does, but without
# starting the app at import. (The lazy `schemathesis.pytest.from_fixture` reads
# `node._nodeid`, which pytest 9.2 no longer has.)
schema = schemathesis.openapi.from_dict(APP.openapi(), config=CONFIG)
schema.app = APP


def _seed(client: TestClient) -> None:
    """A small, realistic state, so ids found in answers lead somewhere."""
    def post(path: str, body: dict[str, Any]) -> str:
        answer = client.post(path, json=body, headers=AUTH)
        assert answer.status_code in (200, 201), (path, answer.status_code, answer.text)
        return str(answer.json()["id"])

    team = post("/v1/teams", {"name": "Fuzz SRE", "mission": "Keep it up"})
    lead = post(f"/v1/teams/{team}/members",
                {"name": "Lia Lead", "email": "lia@example.com", "role": "Lead"})
    member = post(f"/v1/teams/{team}/members",
                  {"name": "Max Member", "email": "max@example.com", "role": "SRE"})
    post(f"/v1/teams/{team}/lead", {"member_id": lead, "reason": "founding lead"})
    post("/v1/goals", {"team_id": team, "owner_id": lead, "title": "Faster recovery",
                       "metric": "MTTR", "baseline": 60, "target": 30, "unit": "min",
                       "deadline": "2030-01-01"})
    incident = post("/v1/incidents", {"team_id": team, "severity": "SEV3",
                                      "service": "checkout", "summary": "Slow checkout"})
    post(f"/v1/incidents/{incident}/assign", {"responder_id": member})
    reviewed = post("/v1/incidents", {"team_id": team, "severity": "SEV3",
                                      "service": "search", "summary": "Stale index"})
    post(f"/v1/incidents/{reviewed}/acknowledge", {})
    post(f"/v1/incidents/{reviewed}/resolve", {"summary": "reindexed"})
    post(f"/v1/incidents/{reviewed}/postmortem", {"causes": ["cron stopped"], "action_items": [
        {"title": "Alert on index age", "owner_id": member, "due": "2030-01-01"}]})
    post("/v1/feedback", {"kind": "peer", "team_id": team, "text": "Great handover",
                          "subject_member_id": member, "score": 9})
    risk = post("/v1/risks", {"team_id": team, "title": "Primary DB region outage",
                              "category": "technical", "likelihood": 4, "impact": 5,
                              "owner_id": member, "review_by": "2030-01-01"})
    post(f"/v1/risks/{risk}/treat", {"treatment": "accept", "reason": "cheaper to absorb"})
    plan = post("/v1/contingency-plans", {
        "team_id": team, "title": "Region failover", "risk_ids": [risk], "owner_id": lead,
        "steps": [{"title": "Fail over", "role": "On-call SRE"}]})
    post(f"/v1/incidents/{incident}/links", {"risk_id": risk, "plan_id": plan,
                                             "plan_followed": True})
    training = post("/v1/trainings", {"team_id": team, "title": "Incident command",
                                      "required_for_roles": ["SRE"], "valid_for_days": 365})
    post(f"/v1/members/{lead}/trainings", {"training_id": training, "due": "2030-01-01"})
    policy = post("/v1/policies", {"team_id": team, "title": "On-call", "version": "1",
                                   "document": "https://wiki.example.test/on-call",
                                   "sha256": "ab" * 32})
    post(f"/v1/members/{member}/policy-acknowledgements", {"policy_id": policy,
                                                           "version": "1"})


@pytest.fixture(scope="module", autouse=True)
def seeded_data_folder() -> Iterator[Path]:
    """Seed through one lifespan (opened and closed here); schemathesis then starts the
    app's lifespan again on its first request, on the same folder. Afterwards the
    folder is closed and removed."""
    with TestClient(APP) as client:
        _seed(client)
    try:
        yield DATA_DIR
    finally:
        shutdown_lifespans()  # closes the runtime the fuzzing run opened
        shutil.rmtree(DATA_DIR, ignore_errors=True)


_keys = itertools.count(1)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _moment(text: str) -> datetime:
    try:
        return moment_of(text)
    except ValueError:  # not a time the schema allows: leave it for the check to judge
        return datetime.min.replace(tzinfo=UTC)


def _as_a_client_would(case: Any) -> None:
    """A valid request carries only values a client can have, and follows the rules a
    schema cannot state, so a generated one that does not is not valid data: a
    ``cursor`` is opaque and comes from an answer's ``next_cursor`` (a made-up one is a
    400); an ``Idempotency-Key`` names one logical request (reused for another body it
    is a 422, by design); a token is revoked with a reason in the body or the query,
    not both; an ``OpsLedger-Import-Run`` names a run the client opened (one made up
    names none: a 422, as for any reference to nothing), so it is left out; a team's
    id is given as ``team_id`` or as its alias ``id``, and two that differ are a 422;
    an ``occurred_at`` says when something happened, so it is never in the future
    (more than 5 minutes ahead of the server clock is a 422, and a schema
    cannot say what time it is). Invalid requests keep whatever was generated."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    if case.operation.label == "DELETE /v1/tokens/{token_id}":
        # the reason goes in the body or the query: one of them, not both (else a 422)
        if isinstance(case.body, dict) and case.query:
            case.query.pop("reason", None)
        elif not isinstance(case.body, dict) and not (case.query or {}).get("reason"):
            case.query = {**(case.query or {}), "reason": "fuzzed revocation"}
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("occurred_at"), str):
        body["occurred_at"] = min(body["occurred_at"], _now(), key=_moment)
    if (case.operation.label == "POST /v1/teams" and isinstance(body, dict)
            and "team_id" in body and "id" in body):
        body["id"] = body["team_id"]
    for name in list(case.headers or {}):
        if name.lower() == "opsledger-import-run":
            del case.headers[name]
        elif name.lower() == "idempotency-key":
            case.headers[name] = f"fuzz-{next(_keys)}"


@schema.parametrize()
def test_every_operation_answers_only_as_its_openapi_document_says(case: Any) -> None:
    _as_a_client_would(case)
    # Passed with the call, the token counts as the caller's own credential, so
    # `ignored_auth` also sends each operation without it and with a wrong one.
    case.call_and_validate(headers=AUTH)
