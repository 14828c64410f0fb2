"""Gone means gone, in the embedded mode: after a member and a customer are erased, the
command line's export, replay and rebuild show "[erased]", verify still says OK, and
neither their plaintext nor their keys are in any byte of any file OpsLedger wrote
(the event store with its WAL, the key store, the read models, an export, a replay).

One history is made and erased once for the module (the command line runs in
subprocesses, which take seconds each); each test checks one edge of it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from domain.personal import ERASED
from infra.personal.keys import KeyStore
from infra.personal.reveal import revealing
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import TOKENS, Api
from tests.e2e.test_auditor_tools import cli


@dataclass(frozen=True)
class Erased:
    settings: Settings
    member_id: str
    secrets: dict[str, bytes]
    """What must be found nowhere: each piece of plaintext, and each key as stored."""
    export: Path
    replayed: Path
    verify_output: str


def _secrets(marker: str, keys: dict[str, bytes]) -> dict[str, bytes]:
    found = {f"plaintext {marker}": marker.encode()}
    for subject, key in keys.items():
        found[f"key of {subject}"] = key
        found[f"key of {subject}, hex"] = key.hex().encode()
        found[f"key of {subject}, base64"] = base64.b64encode(key).rstrip(b"=")
    return found


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Erased]:
    folder = tmp_path_factory.mktemp("erasure")
    settings = Settings(data_dir=folder / "data", tokens=json.dumps(TOKENS),
                        min_position_timeout=5.0)
    marker = uuid4().hex
    email = f"cy.{marker}@example.net"
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        team = api.team()
        member_id = api.post(f"/v1/teams/{team}/members", {
            "name": f"Zed {marker}", "email": f"zed.{marker}@example.org", "role": "SRE"},
            expect=201).json()["id"]
        api.post("/v1/feedback", {"kind": "peer", "team_id": team,
                                  "subject_member_id": member_id, "text": f"calm {marker}"},
                 expect=201)
        api.post("/v1/feedback", {"kind": "customer", "team_id": team,
                                  "text": f"slow {marker}",
                                  "customer": {"name": f"Cy {marker}", "email": email}},
                 expect=201)
        assert marker in api.get(f"/v1/members/{member_id}", min_position=api.head())["name"]
        keys = KeyStore(settings.key_store_path)
        customer = keys.find_customer(email)
        assert customer is not None
        subjects = {f"member:{member_id}": keys.key(f"member:{member_id}"),
                    customer: keys.key(customer)}
        keys.close()
        api.post(f"/v1/members/{member_id}/erase", {"reason": "asked"}, expect=201)
        api.post("/v1/customers/erase", {"email": email, "reason": "retention"}, expect=201)
        api.get(f"/v1/members/{member_id}", min_position=api.head())
    export = folder / "export.jsonl"
    cli("audit", "export", "--out", str(export), data_dir=settings.data_dir)
    replayed = folder / "replayed"
    cli("replay", "--into", str(replayed), "--as-of", "2100-01-01T00:00:00Z",
        data_dir=settings.data_dir)
    cli("rebuild", data_dir=settings.data_dir)
    verified = cli("verify", data_dir=settings.data_dir).stdout
    assert all(subjects.values())
    yield Erased(settings, member_id, _secrets(marker, subjects),  # type: ignore[arg-type]
                 export, replayed, verified)


def _member(store_path: Path, keys_path: Path, member_id: str) -> dict[str, object]:
    keys = KeyStore(keys_path)
    store = revealing(SQLiteReadStore(store_path), keys)
    try:
        member = store.get("members", member_id)
    finally:
        store.close()
        keys.close()
    assert member is not None
    return member


def test_verify_still_says_ok(erased: Erased) -> None:
    assert erased.verify_output.startswith("OK"), erased.verify_output


def test_an_export_after_the_erasure_shows_erased(erased: Erased) -> None:
    records = [json.loads(line) for line in erased.export.read_text().splitlines()]
    joined = next(r for r in records if r["type"] == "opsledger.teams.MemberJoined.v1")
    assert (joined["data"]["name"], joined["data"]["email"]) == (ERASED, ERASED)
    customer = next(r for r in records
                    if r["type"] == "opsledger.feedback.CustomerFeedbackReceived.v1")
    assert customer["data"]["customer"] == {"name": ERASED, "email": ERASED}
    assert any(r["type"] == "opsledger.privacy.PersonalDataErased.v1" for r in records)


def test_a_replay_and_a_rebuild_show_erased(erased: Erased) -> None:
    keys = erased.settings.key_store_path
    replayed = _member(erased.replayed / "readmodels.sqlite", keys, erased.member_id)
    rebuilt = _member(erased.settings.read_store_path, keys, erased.member_id)
    assert (replayed["name"], replayed["email"]) == (ERASED, ERASED)
    assert (rebuilt["name"], rebuilt["email"]) == (ERASED, ERASED)
    assert replayed["role"] == rebuilt["role"] == "SRE"  # the rest stays


def test_no_file_opsledger_wrote_holds_the_plaintext_or_the_keys(erased: Erased) -> None:
    files = [p for folder in (erased.settings.data_dir, erased.replayed)
             for p in folder.rglob("*") if p.is_file()] + [erased.export]
    names = {p.name for p in files}
    assert {"events.sqlite", "keys.sqlite", "readmodels.sqlite"} <= names
    assert any(name.endswith("-wal") for name in names)  # the event store's WAL, searched
    found = [(what, str(path)) for path in files for what, secret in erased.secrets.items()
             if secret in path.read_bytes()]
    assert found == []
