"""The bulk load written by a child process: what it answers, and how it fails.

What it writes is the loaders' shared contract (test_bulk_load); here, what only a
second process can do: fail on its own, or die, and say so to the replay."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from infra.projecting.replay import replay
from infra.read_store.bulk_load_process import BulkLoadError, BulkLoadProcess
from infra.read_store.sqlite import SQLiteReadStore
from infra.read_store.sqlite_bulk import PARTIAL
from tests.unit.infra.test_replay_writer import story


def test_a_read_is_answered_after_every_batch_sent_before_it(tmp_path: Path) -> None:
    target = BulkLoadProcess(tmp_path / "readmodels.sqlite", new_file=True)
    with target.bulk_loading():
        assert target.empty()
        target.load({("incidents", "i-1"): {"_id": "i-1", "status": "open"}}, ("test", 1))

        assert target.get("incidents", "i-1") == {"_id": "i-1", "status": "open"}
        assert target.get("incidents", "i-2") is None
        assert not target.empty()
    target.close()

    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    assert store.checkpoint("test") == 1
    store.close()


def test_a_writer_that_cannot_open_its_store_says_why(tmp_path: Path) -> None:
    target = BulkLoadProcess(tmp_path / "no such folder" / "readmodels.sqlite",
                             new_file=True)

    with pytest.raises(BulkLoadError,
                       match=r"writing the read store failed: .*No such file"):
        target.empty()
    target.close()


def test_a_batch_the_writer_refuses_fails_the_replay_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    target = BulkLoadProcess(path, new_file=True)

    with pytest.raises(BulkLoadError, match="bad collection"), target.bulk_loading():
        target.load({("bad collection", "x"): {"_id": "x"}}, ("test", 1))
    target.close()

    assert not path.exists()
    assert (tmp_path / f"readmodels.sqlite{PARTIAL}").exists()


def test_a_writer_that_dies_mid_replay_is_told_not_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "readmodels.sqlite"
    target = BulkLoadProcess(path, new_file=True)
    target.empty()  # the child is up
    os.kill(target._child.pid, signal.SIGKILL)

    with pytest.raises(BulkLoadError, match=r"stopped unexpectedly .*-9"):
        replay(story(), target, batch=2)
    target.close()

    assert not path.exists()
