"""The tokens read model: given these access events, then this document (no secret, no
digest; who issued and who revoked)."""

from __future__ import annotations

import pytest

from projections.views import MissingDocumentError
from tests.unit.projections.builders import ev, project

TOKEN = "00000000-0000-4000-8000-0000000000aa"
TEAM = "00000000-0000-4000-8000-00000000000a"
DIGEST = "ab" * 32


def issued(version: int = 1, position: int = 1, **data: object) -> object:
    fields = {"principal": "user:ada", "roles": ["lead"], "teams": [TEAM],
              "expires_at": "2030-01-01T00:00:00.000000Z", "reason": "new lead",
              "secret_sha256": DIGEST, **data}
    return ev("access", "TokenIssued", TOKEN, version, position, "2025-03-03T09:00:00Z",
              actor="user:admin", **fields)


def test_an_issued_token_is_listed_with_its_metadata_and_never_its_digest() -> None:
    store = project(issued())  # type: ignore[arg-type]

    assert store.get("tokens", TOKEN) == {
        "id": TOKEN, "token_id": TOKEN, "principal": "user:ada", "roles": ["lead"],
        "teams": [TEAM], "issued_at": "2025-03-03T09:00:00Z", "issued_by": "user:admin",
        "expires_at": "2030-01-01T00:00:00.000000Z", "reason": "new lead",
        "status": "active", "revoked_at": None, "revoked_by": None, "revoked_reason": None,
        "version": 1, "event_ids": [issued().id],  # type: ignore[attr-defined]
    }
    assert DIGEST not in repr(store.docs[("tokens", TOKEN)])


def test_a_revoked_token_says_when_by_whom_and_why() -> None:
    revoked = ev("access", "TokenRevoked", TOKEN, 2, 2, "2025-03-04T10:00:00Z",
                 actor="user:root", principal="user:ada", roles=["lead"], teams=[TEAM],
                 reason="left the company")

    doc = project(issued(), revoked).get("tokens", TOKEN)  # type: ignore[arg-type]

    assert doc is not None
    assert (doc["status"], doc["revoked_at"], doc["revoked_by"], doc["revoked_reason"]) == (
        "revoked", "2025-03-04T10:00:00Z", "user:root", "left the company")
    assert doc["version"] == 2


def test_a_revocation_of_a_token_never_issued_stops_the_fold() -> None:
    revoked = ev("access", "TokenRevoked", TOKEN, 2, 2, "2025-03-04T10:00:00Z",
                 principal="user:ada", roles=["lead"], teams=[TEAM], reason="x")

    with pytest.raises(MissingDocumentError):
        project(revoked)


def test_access_events_are_audited_but_feed_no_other_read_model() -> None:
    store = project(issued())  # type: ignore[arg-type]

    assert {collection for collection, _ in store.docs} == {"tokens", "audit_trail"}
