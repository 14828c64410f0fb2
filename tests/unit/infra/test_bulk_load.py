"""A replay's bulk load: a new file appears only once complete, a store it did not
start empty is still read, and what it leaves is an ordinary read store.

One contract for both loaders: the store written in this process
(:class:`SQLiteBulkStore`) and by a child process (:class:`BulkLoadProcess`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.envelope import EventEnvelope
from infra.projecting.replay import REPLAY_CHECKPOINT, replay
from infra.read_store.bulk_load_process import BulkLoadProcess
from infra.read_store.sqlite import BUILD_PREFIX, SQLiteReadStore
from infra.read_store.sqlite_bulk import PARTIAL, SQLiteBulkStore, row_parts
from projections.engine import DocKey
from projections.fold import Document
from tests.unit.infra.test_replay_writer import folded_at_once, story

Loader = type[SQLiteBulkStore] | type[BulkLoadProcess]


@pytest.fixture(params=["in this process", "in a child process"])
def loader(request: pytest.FixtureRequest) -> Loader:
    return SQLiteBulkStore if request.param == "in this process" else BulkLoadProcess


def journal_mode(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])


def index_sql(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT tbl_name, sql FROM sqlite_master "
                          "WHERE type = 'index' AND sql IS NOT NULL").fetchall()
    return sorted(f"{table}: {sql.split(' ON ', 1)[1]}" for table, sql in rows)


def stored(store: SQLiteReadStore, expected: dict[DocKey, Document]) -> dict[DocKey, Document]:
    return {key: doc for key in expected if (doc := store.get(*key)) is not None}


def test_a_replay_into_a_new_file_leaves_an_ordinary_store_with_every_index(
    tmp_path: Path, loader: Loader,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    target = loader(path, new_file=True)

    replay(story(), target, batch=3)
    target.close()

    reopened = SQLiteReadStore(path)
    expected = folded_at_once()
    assert stored(reopened, expected) == expected
    assert reopened.checkpoint(REPLAY_CHECKPOINT) == 7
    reopened.close()
    assert journal_mode(path) == "wal"
    fresh = tmp_path / "fresh.sqlite"
    SQLiteReadStore(fresh).close()
    assert index_sql(path) == index_sql(fresh) and index_sql(fresh)
    assert not (tmp_path / f"readmodels.sqlite{PARTIAL}").exists()
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_replay_that_stops_half_way_leaves_no_file_under_the_name_asked_for(
    tmp_path: Path, loader: Loader,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    target = loader(path, new_file=True)

    def broken() -> Iterator[EventEnvelope]:
        yield from story()[:4]
        raise OSError("the event store went away")

    with pytest.raises(OSError, match="went away"):
        replay(broken(), target, batch=2)
    target.close()

    assert not path.exists()
    assert (tmp_path / f"readmodels.sqlite{PARTIAL}").exists()
    again = loader(path, new_file=True)  # the leftover is replaced, not reused
    replay(story(), again, batch=2)
    again.close()
    expected = folded_at_once()
    reopened = SQLiteReadStore(path)
    assert stored(reopened, expected) == expected
    reopened.close()


def test_a_new_file_is_refused_where_one_exists(tmp_path: Path, loader: Loader) -> None:
    path = tmp_path / "readmodels.sqlite"
    SQLiteReadStore(path).close()

    with pytest.raises(FileExistsError):
        loader(path, new_file=True)


def test_a_replay_into_a_store_that_already_holds_documents_reads_them(
    tmp_path: Path, loader: Loader,
) -> None:
    """Only an empty target may be assumed to hold nothing the replay did not write."""
    events = story()
    target = loader(tmp_path / "readmodels.sqlite", prefix=BUILD_PREFIX)
    replay(events[:5], target, batch=2)  # the team and the incident's first versions
    target.close()
    again = loader(tmp_path / "readmodels.sqlite", prefix=BUILD_PREFIX)
    assert not again.empty()

    replay(events[5:], again, batch=2)
    again.close()

    expected = folded_at_once()
    built = SQLiteReadStore(tmp_path / "readmodels.sqlite", prefix=BUILD_PREFIX)
    assert stored(built, expected) == expected
    built.close()


def test_a_bulk_loaded_generation_keeps_its_indexes_and_its_journal(
    tmp_path: Path, loader: Loader,
) -> None:
    path = tmp_path / "readmodels.sqlite"
    live = SQLiteReadStore(path)
    build = loader(path, prefix=BUILD_PREFIX)

    replay(story(), build, batch=3)

    assert journal_mode(path) == "wal"
    built = [sql for sql in index_sql(path) if sql.startswith(BUILD_PREFIX)]
    live_ones = [sql for sql in index_sql(path) if sql.startswith("c_")]
    assert len(built) == len(live_ones) > 0
    build.close()
    live.close()


def test_the_cyclic_collector_rests_while_a_replay_runs_and_wakes_after(
    tmp_path: Path,
) -> None:
    import gc

    seen: list[bool] = []

    class Watching(SQLiteBulkStore):
        def load(self, changes: dict[DocKey, Document], checkpoint: tuple[str, int],
                 ) -> None:
            seen.append(gc.isenabled())
            super().load(changes, checkpoint)

    target = Watching(tmp_path / "readmodels.sqlite", new_file=True)
    assert gc.isenabled()

    replay(story(), target, batch=2)
    target.close()

    assert seen == [False] * 4
    assert gc.isenabled()


def test_a_batch_of_hundreds_of_documents_per_table_is_loaded_whole(
    tmp_path: Path, loader: Loader,
) -> None:
    """Inserted some hundreds of rows per statement, the last statements smaller: no
    document is left out or written twice; a view's later copy replaces it, an
    append-only record keeps its first."""
    def docs(collection: str, version: int) -> dict[DocKey, Document]:
        return {(collection, f"{collection}-{n}"): {"_id": f"{collection}-{n}", "n": n,
                                                    "version": version}
                for n in range(677)}

    target = loader(tmp_path / "readmodels.sqlite", new_file=True)
    with target.bulk_loading():
        target.load({**docs("incidents", 1), **docs("audit_trail", 1)}, ("test", 1))
        target.load({**docs("incidents", 2), **docs("audit_trail", 2)}, ("test", 2))
    target.close()

    store = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    for collection, version in (("incidents", 2), ("audit_trail", 1)):
        found = list(store.iter_find(collection, {}))
        assert len(found) == 677
        assert {d["_id"]: d for d in found} == {
            doc["_id"]: doc for doc in docs(collection, version).values()}
    store.close()


def test_a_batch_is_laid_out_in_parts_of_at_most_so_many_documents_per_collection() -> None:
    changes: dict[DocKey, Document] = {("a", f"a{i}"): {"n": i} for i in range(5)}
    changes[("b", "b0")] = {"n": 0}

    parts = list(row_parts(changes, 2))

    assert [(collection, len(params) // 2) for collection, params in parts] == [
        ("a", 2), ("a", 2), ("a", 1), ("b", 1)]
    assert parts[0][1] == ["a0", b'{"n":0}', "a1", b'{"n":1}']
    assert [collection for collection, _ in row_parts(changes)] == ["a", "b"]
