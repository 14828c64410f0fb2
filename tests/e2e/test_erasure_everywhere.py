"""Gone means gone, in the embedded mode: after a member and a customer are erased, the
command line's export, replay and rebuild show "[erased]", verify still says OK, and
neither their plaintext nor their keys are in any byte of any file OpsLedger wrote
(the event store with its WAL, the key store, the read models, an export, a replay).

One history is made and erased once for the module (the command line runs in
subprocesses, which take seconds each); each test checks one edge of it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from domain.personal import ERASED
from infra.settings import Settings
from services.api.app import create_app
from tests.e2e.conftest import TOKENS, Api
from tests.e2e.test_auditor_tools import cli
from tests.support.erasure import (
    erase_people,
    files_under,
    found_in,
    keys_of,
    revealed_member,
    secrets_of,
    write_people,
)


@dataclass(frozen=True)
class Erased:
    settings: Settings
    member_id: str
    secrets: dict[str, bytes]
    """What must be found nowhere: each piece of plaintext, and each key as stored."""
    export: Path
    replayed: Path
    verify_output: str


@pytest.fixture(scope="module")
def erased(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Erased]:
    folder = tmp_path_factory.mktemp("erasure")
    settings = Settings(data_dir=folder / "data", tokens=json.dumps(TOKENS),
                        min_position_timeout=5.0)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        people = write_people(api)
        member = api.get(f"/v1/members/{people.member_id}", min_position=api.head())
        assert (member["name"], member["principal"]) == (f"Zed {people.marker}",
                                                         people.principal)
        keys = keys_of(settings.key_store_path, people)
        erase_people(api, people)
        api.get(f"/v1/members/{people.member_id}", min_position=api.head())
    export = folder / "export.jsonl"
    cli("audit", "export", "--out", str(export), data_dir=settings.data_dir)
    replayed = folder / "replayed"
    cli("replay", "--into", str(replayed), "--as-of", "2100-01-01T00:00:00Z",
        data_dir=settings.data_dir)
    cli("rebuild", data_dir=settings.data_dir)
    verified = cli("verify", data_dir=settings.data_dir).stdout
    yield Erased(settings, people.member_id, secrets_of(people.plaintexts, keys),
                 export, replayed, verified)


def test_verify_still_says_ok(erased: Erased) -> None:
    assert erased.verify_output.startswith("OK"), erased.verify_output


def test_an_export_after_the_erasure_shows_erased(erased: Erased) -> None:
    records = [json.loads(line) for line in erased.export.read_text().splitlines()]
    joined = next(r for r in records if r["type"] == "opsledger.teams.MemberJoined.v1")
    assert (joined["data"]["name"], joined["data"]["email"],
            joined["data"]["principal"]) == (ERASED,) * 3
    customer = next(r for r in records
                    if r["type"] == "opsledger.feedback.CustomerFeedbackReceived.v1")
    assert customer["data"]["customer"] == {"name": ERASED, "email": ERASED}
    assert any(r["type"] == "opsledger.privacy.PersonalDataErased.v1" for r in records)


def test_a_replay_and_a_rebuild_show_erased(erased: Erased) -> None:
    keys = erased.settings.key_store_path
    replayed = revealed_member(erased.replayed / "readmodels.sqlite", keys, erased.member_id)
    rebuilt = revealed_member(erased.settings.read_store_path, keys, erased.member_id)
    for member in (replayed, rebuilt):  # the principal binding is personal data too
        assert (member["name"], member["email"], member["principal"]) == (ERASED,) * 3
    assert replayed["role"] == rebuilt["role"] == "SRE"  # the rest stays


def test_no_file_opsledger_wrote_holds_the_plaintext_or_the_keys(erased: Erased) -> None:
    files = [*files_under(erased.settings.data_dir, erased.replayed), erased.export]
    names = {p.name for p in files}
    assert {"events.sqlite", "keys.sqlite", "readmodels.sqlite"} <= names
    assert any(name.endswith("-wal") for name in names)  # the event store's WAL, searched
    assert found_in(files, erased.secrets) == []
