"""Gone means gone, in the distributed mode: the API, the relay and a projector run on
the real Kafka and MongoDB-wire servers; a member and a customer are written, flow to
Kafka and MongoDB, and are erased. Then the API shows "[erased]", `opsledger verify
--source kafka` says OK, `opsledger replay --source kafka` shows "[erased]", and
neither their plaintext nor their keys are in any byte of the files OpsLedger wrote
(data folder, export, replay), of the topics' Kafka log segments or of FerretDB's files.
`opsledger restore` from Kafka with a backup of the key store taken before the erasure
reads a member who was not erased and still shows "[erased]" for those who were (their
keys deleted again); without the key store every personal field restored reads
"[erased]".

The servers' folders come from infra/local/up.sh (``OPSLEDGER_INFRA_KAFKA_DATA_DIR``,
``OPSLEDGER_INFRA_FERRETDB_DATA_DIR``); with servers whose files are out of reach
(testcontainers) those two searches are skipped, saying why.

Before the erasure the same searches must find what the servers do hold: the member's
email as published (sealed) and a team's name (not personal data, so in clear), and
nothing else. A search that found neither would prove nothing about plaintext; with
sealing switched off the Kafka and FerretDB searches find the plaintext.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID, uuid4

import pymongo
import pytest
from fastapi.testclient import TestClient

from domain.personal import ERASED
from infra.event_store import open_ledger
from infra.personal.sealing import is_sealed
from infra.settings import Settings
from services.api.app import create_app
from tests.conftest import Servers
from tests.e2e.conftest import TOKENS, Api
from tests.integration.test_distributed_end_to_end import relay_and_projector
from tests.support.erasure import (
    erase_people,
    files_under,
    found_in,
    keys_of,
    revealed_member,
    secrets_of,
    write_people,
)

pytestmark = pytest.mark.integration

NOT_REACHABLE = ("the {} files are out of reach (servers not started by infra/local/up.sh: "
                 "{} is not set), so they are not searched")


@dataclass(frozen=True)
class Erased:
    servers: Servers
    settings: Settings
    topic_prefix: str
    member_id: str
    secrets: dict[str, bytes]
    """What must be found nowhere after the erasure."""
    published_email: str
    held_before: dict[str, bytes]
    """What the servers' files must hold before it: the email as published, a team's
    name."""
    found_before: dict[str, list[tuple[str, str]]]
    """Per server, what the search found in its files before the erasure."""
    answers: dict[str, object]
    export: Path
    replayed: Path
    verify_output: str
    team_id: str
    kept: tuple[str, str]
    """A member who was not erased: (member id, name)."""
    restored: Path
    """Restored from Kafka with a backup of the key store taken before the erasure."""
    restored_bare: Path
    """Restored from Kafka with no key store."""
    restore_output: str


def _kafka_files(servers: Servers, prefix: str) -> list[Path]:
    """The log segments (and their indexes) of this test's topics."""
    assert servers.kafka_data_dir is not None
    return files_under(*servers.kafka_data_dir.glob(f"{prefix}.*"))


def _ferretdb_files(servers: Servers, database: str) -> list[Path]:
    """FerretDB's SQLite backend keeps a database in ``<name>.sqlite`` (and its WAL)."""
    assert servers.ferretdb_data_dir is not None
    return sorted(p for p in servers.ferretdb_data_dir.glob(f"{database}.sqlite*")
                  if p.is_file())


def _server_files(servers: Servers, settings: Settings, prefix: str) -> dict[str, list[Path]]:
    files = {}
    if servers.kafka_data_dir is not None:
        files["kafka"] = _kafka_files(servers, prefix)
    if servers.ferretdb_data_dir is not None:
        files["ferretdb"] = _ferretdb_files(servers, settings.mongo_db)
    return files


def _cli(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "services.cli", *args], env=env,
                          capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


@pytest.fixture(scope="module")
def erased(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Erased]:
    folder = tmp_path_factory.mktemp("erasure-on-kafka")
    prefix, database = f"t{uuid4().hex[:10]}", f"t_{uuid4().hex[:12]}"
    settings = Settings(
        data_dir=folder / "data", tokens=json.dumps(TOKENS),
        kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri,
        mongo_db=database, kafka_topic_prefix=prefix, projector_group=f"{prefix}-projector",
        min_position_timeout=30.0,
    )
    settings.data_dir.mkdir(parents=True)
    env = {**os.environ, "OPSLEDGER_DATA_DIR": str(settings.data_dir),
           "OPSLEDGER_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
           "OPSLEDGER_MONGO_URI": servers.mongo_uri, "OPSLEDGER_MONGO_DB": database,
           "OPSLEDGER_KAFKA_TOPIC_PREFIX": prefix,
           "OPSLEDGER_PROJECTOR_GROUP": settings.projector_group}
    _cli(env, "topics", "create")
    try:
        with TestClient(create_app(settings)) as client, relay_and_projector(env, folder):
            api = Api(client)
            people = write_people(api)
            kept_name = f"Kept {uuid4().hex}"  # not erased: its own marker
            kept_id = api.post(f"/v1/teams/{people.team_id}/members", {
                "name": kept_name, "email": f"{uuid4().hex}@example.org", "role": "SRE"},
                expect=201).json()["id"]
            control = f"Control {uuid4().hex}"  # a team name: in clear everywhere
            api.team(control)
            shown = api.get(f"/v1/members/{people.member_id}", min_position=api.head())
            assert shown["principal"] == people.principal  # opened by the API
            published = next(e["data"] for e in api.get("/v1/events", after=0, limit=100)[
                "items"] if e["type"] == "opsledger.teams.MemberJoined.v1")
            held = {"the member's email as published": published["email"].encode(),
                    "a team's name": control.encode()}
            keys = keys_of(settings.key_store_path, people)
            secrets = secrets_of(people.plaintexts, keys)
            found_before = {
                server: found_in(files, {**held, **secrets})
                for server, files in _server_files(servers, settings, prefix).items()}
            backup = folder / "keys-backup-before-the-erasure.sqlite"
            with sqlite3.connect(settings.key_store_path) as live, \
                    sqlite3.connect(backup) as copy:
                live.backup(copy)
            last = erase_people(api, people)
            answers = {
                "member": api.get(f"/v1/members/{people.member_id}", min_position=last),
                "roster": api.get(f"/v1/teams/{people.team_id}")["roster"],
                "feedback": api.get("/v1/feedback", team_id=people.team_id)["items"],
            }
        export = folder / "export.jsonl"
        _cli(env, "audit", "export", "--out", str(export))
        replayed = folder / "replayed"
        _cli(env, "replay", "--source", "kafka", "--into", str(replayed),
             "--as-of", "2100-01-01T00:00:00Z")
        verified = _cli(env, "verify", "--source", "kafka")
        restored, bare = folder / "restored", folder / "restored-bare"
        restore_output = _cli(env, "restore", "--from-kafka", "--into", str(restored),
                              "--keys", str(backup))
        _cli(env, "restore", "--from-kafka", "--into", str(bare))
        yield Erased(servers, settings, prefix, people.member_id, secrets,
                     published["email"], held,
                     found_before, answers, export, replayed, verified,
                     people.team_id, (kept_id, kept_name), restored, bare, restore_output)
    finally:
        with pymongo.MongoClient(servers.mongo_uri, serverSelectionTimeoutMS=5000) as mongo:
            mongo.drop_database(database)


def test_the_api_shows_erased_and_keeps_the_rest(erased: Erased) -> None:
    member = erased.answers["member"]
    assert isinstance(member, dict)
    assert (member["name"], member["email"], member["principal"]) == (ERASED,) * 3
    assert member["role"] == "SRE"
    names = {m["member_id"]: m["name"] for m in erased.answers["roster"]}  # type: ignore[union-attr]
    assert names == {erased.member_id: ERASED, erased.kept[0]: erased.kept[1]}
    by_kind = {f["kind"]: f for f in erased.answers["feedback"]}  # type: ignore[union-attr]
    assert by_kind["peer"]["text"] == ERASED
    assert by_kind["customer"]["customer"] == {"name": ERASED, "email": ERASED}


def test_kafka_carries_the_personal_data_sealed(erased: Erased) -> None:
    assert is_sealed(erased.published_email)


def test_verify_over_kafka_still_says_ok(erased: Erased) -> None:
    assert erased.verify_output.startswith("OK"), erased.verify_output


def test_a_replay_from_kafka_shows_erased(erased: Erased) -> None:
    member = revealed_member(erased.replayed / "readmodels.sqlite",
                             erased.settings.key_store_path, erased.member_id)
    assert (member["name"], member["email"], member["principal"]) == (ERASED,) * 3
    assert member["role"] == "SRE"


def test_no_file_opsledger_wrote_holds_the_plaintext_or_the_keys(erased: Erased) -> None:
    # Every file, WALs included while they exist (a clean close folds them in).
    files = [*files_under(erased.settings.data_dir, erased.replayed), erased.export]
    names = {p.name for p in files}
    assert {"events.sqlite", "keys.sqlite", "readmodels.sqlite", "export.jsonl"} <= names
    export = erased.export.read_text()
    assert ERASED in export and "PersonalDataErased" in export
    assert found_in(files, erased.secrets) == []


def _names_in(folder: Path, settings: Settings, team_id: str) -> dict[str, str]:
    """The team's members' names as a restored folder's ledger loads them (opened with
    the folder's key store)."""
    ledger = open_ledger(settings.model_copy(update={"data_dir": folder}))
    try:
        team = ledger.repository.get(UUID(team_id))
        return {member_id: m["name"] for member_id, m in team.members.items()}
    finally:
        ledger.close()


def test_a_restore_with_an_older_key_store_reads_the_kept_and_not_the_erased(
        erased: Erased) -> None:
    names = _names_in(erased.restored, erased.settings, erased.team_id)
    assert names == {erased.member_id: ERASED, erased.kept[0]: erased.kept[1]}
    assert "2 erased again (the backup is older than their erasure)" in erased.restore_output
    assert found_in(files_under(erased.restored), erased.secrets) == []


def test_a_restore_without_the_key_store_reads_erased_everywhere(erased: Erased) -> None:
    names = _names_in(erased.restored_bare, erased.settings, erased.team_id)
    assert names == {erased.member_id: ERASED, erased.kept[0]: ERASED}


@pytest.mark.parametrize("server", ["kafka", "ferretdb"])
def test_the_servers_files_hold_neither(erased: Erased, server: str) -> None:
    """Kafka's log segments of the topics, FerretDB's SQLite files of the database."""
    folder, variable = {
        "kafka": (erased.servers.kafka_data_dir, "OPSLEDGER_INFRA_KAFKA_DATA_DIR"),
        "ferretdb": (erased.servers.ferretdb_data_dir, "OPSLEDGER_INFRA_FERRETDB_DATA_DIR"),
    }[server]
    if folder is None:
        pytest.skip(NOT_REACHABLE.format(server, variable))
    before = {what for what, _ in erased.found_before[server]}
    assert before == set(erased.held_before), f"the search sees what {server} holds"
    files = _server_files(erased.servers, erased.settings, erased.topic_prefix)[server]
    assert files, f"no {server} file of this test"
    assert found_in(files, erased.secrets) == []
