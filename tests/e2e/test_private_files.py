"""The data folder is 0700 and every file OpsLedger writes there 0600, whatever the
umask: the ledger and the read models hold the whole history (security review D9)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.private_files import private_dir, private_sqlite
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from services.api.bootstrap import Runtime
from tests.e2e.server import ServerProcess

TOKEN = "private-files-token-000"
TOKENS = json.dumps({TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}})


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(folder: Path) -> dict[str, int]:
    return {p.name: mode(p) for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The ordinary umask of a shell (new files 0644, folders 0755), for this process
    and every process it starts."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_serve_keeps_its_data_folder_0700_and_every_file_0600(
    tmp_path: Path, umask_022: None
) -> None:
    # Given `opsledger serve` started with umask 022 on a new data folder
    data = tmp_path / "data"
    server = ServerProcess(data, env={"OPSLEDGER_TOKENS": TOKENS}).start()
    try:
        # When a command is appended and read back (both databases written, in WAL mode)
        with server.client() as http:
            http.headers["authorization"] = f"Bearer {TOKEN}"
            made = http.post("/v1/teams", json={"name": "SRE"})
            assert made.status_code == 201, made.text
            got = http.get("/v1/teams", params={"min_position": made.json()["position"]})
            assert got.status_code == 200, got.text
        # Then the folder is 0700 and the databases and their WAL/SHM files are 0600
        files = modes(data)
        assert mode(data) == 0o700
        for name in ("events.sqlite", "events.sqlite-wal", "events.sqlite-shm",
                     "readmodels.sqlite", "readmodels.sqlite-wal", "readmodels.sqlite-shm"):
            assert files.get(name) == 0o600, (name, {k: oct(v) for k, v in files.items()})
        assert set(files.values()) == {0o600}, {k: oct(v) for k, v in files.items()}
    finally:
        server.stop()
    # and after a clean stop too (SQLite may have removed the WAL files meanwhile)
    assert set(modes(data).values()) == {0o600}


def test_the_embedded_runtime_makes_an_old_world_readable_folder_private(
    tmp_path: Path, umask_022: None
) -> None:
    # Given a data folder and databases left 0755/0644 by an earlier version
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    for name in ("events.sqlite", "readmodels.sqlite"):
        (data / name).touch(mode=0o644)
    (data / "events.sqlite-wal").touch(mode=0o644)
    assert mode(data) == 0o755 and mode(data / "events.sqlite") == 0o644
    # When the runtime opens it and appends
    runtime = Runtime.open(Settings(data_dir=data, tokens=TOKENS))
    try:
        from domain.ledger import CommandContext
        from domain.meta import CommandMeta
        from domain.teams import commands as c

        runtime.teams.form(c.FormTeam("SRE"), CommandContext(CommandMeta("user:admin")))
        assert runtime.wait_for(runtime.ledger.head_position(), 10)
        # Then everything is private
        assert mode(data) == 0o700
        assert set(modes(data).values()) == {0o600}, {k: oct(v) for k, v in modes(data).items()}
    finally:
        runtime.close()


def test_replay_into_a_new_folder_writes_it_private(tmp_path: Path, umask_022: None) -> None:
    # Given a store with history
    data = tmp_path / "data"
    runtime = Runtime.open(Settings(data_dir=data, tokens=TOKENS), follow=False)
    from domain.ledger import CommandContext
    from domain.meta import CommandMeta
    from domain.teams import commands as c

    runtime.teams.form(c.FormTeam("SRE"), CommandContext(CommandMeta("user:admin")))
    runtime.close()
    # When `opsledger replay --into` a new folder runs with umask 022
    target = tmp_path / "asof" / "folder"
    proc = subprocess.run(
        [sys.executable, "-m", "services.cli", "replay", "--as-of", "2100-01-01T00:00:00",
         "--into", str(target), "--data-dir", str(data)],
        capture_output=True, text=True, timeout=120, check=False,
        env={"OPSLEDGER_TOKENS": TOKENS, "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    # Then the target folder is 0700 and its read models 0600
    assert mode(target) == 0o700
    assert "readmodels.sqlite" in modes(target)
    assert set(modes(target).values()) == {0o600}, modes(target)


def test_a_read_store_file_and_its_wal_are_0600_wherever_it_is(
    tmp_path: Path, umask_022: None
) -> None:
    # Given a read store opened anywhere, with umask 022
    store = SQLiteReadStore(tmp_path / "elsewhere.sqlite")
    try:
        # When it writes (WAL mode)
        store.commit({("teams", "t1"): {"_id": "t1", "name": "SRE"}}, ("test", 1))
        # Then the database and its WAL/SHM files are 0600
        files = {k: v for k, v in modes(tmp_path).items() if k.startswith("elsewhere")}
        assert {"elsewhere.sqlite", "elsewhere.sqlite-wal", "elsewhere.sqlite-shm"} <= set(files)
        assert set(files.values()) == {0o600}, files
    finally:
        store.close()


def test_private_helpers_create_0700_folders_and_0600_files(
    tmp_path: Path, umask_022: None
) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    assert mode(folder) == 0o700
    db = private_sqlite(folder / "x.sqlite")
    assert db.exists() and mode(db) == 0o600
    assert private_sqlite(":memory:") == Path(":memory:")
