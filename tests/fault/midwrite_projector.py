"""A projector process that dies in the middle of a write while the next batch is
folded (``python -m tests.fault.midwrite_projector``), for the pipeline's fault test.

Settings from the environment, as ``services.projector`` takes them, plus
``MIDWRITE_CRASH_AT`` (the write to die in). On that write it waits until the
consumer thread has begun folding the next batch over it, lets that fold run a
moment, stores part of the batch's documents (the write-once ones: no audit record,
no view, no checkpoint) and SIGKILLs itself.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Mapping
from typing import Any

from infra.kafka.projector import Projector
from infra.kafka.topics import Topics
from infra.read_store.mongo import MongoReadStore
from projections.audit_trail import COLLECTION as AUDIT
from projections.registry import ALL_FOLDS, APPEND_ONLY


class DyingStore:
    """The MongoDB store, except that its ``crash_at``-th commit stops half-way."""

    def __init__(self, store: MongoReadStore, crash_at: int) -> None:
        self.store = store
        self.crash_at = crash_at
        self.commits = 0
        # Every batch's fold asks for the parked aggregates once: by the n-th commit at
        # least n folds began, so n + 1 means the next batch is folding.
        self.folds = 0
        self.next_fold = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def iter_find(self, *args: Any, **kwargs: Any) -> Any:
        self.folds += 1
        if self.folds > self.crash_at:
            self.next_fold.set()
        return self.store.iter_find(*args, **kwargs)

    def commit(self, changes: Mapping[tuple[str, str], Any], checkpoint: tuple[str, int],
               **kwargs: Any) -> Any:
        self.commits += 1
        if self.commits < self.crash_at:
            return self.store.commit(changes, checkpoint, **kwargs)
        if not self.next_fold.wait(timeout=30):
            print("midwrite: no batch folded during the doomed write", flush=True)
            os._exit(3)
        time.sleep(0.3)  # the next fold reads and folds meanwhile
        part = {key: doc for key, doc in changes.items()
                if key[0] in APPEND_ONLY and key[0] != AUDIT}
        self.store.commit(part, (checkpoint[0], 0))  # the checkpoint stays where it was
        print(f"midwrite: wrote {len(part)} of {len(changes)} documents, dying", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    env = os.environ
    store = DyingStore(MongoReadStore(env["OPSLEDGER_MONGO_URI"], env["OPSLEDGER_MONGO_DB"]),
                       int(env["MIDWRITE_CRASH_AT"]))
    projector = Projector(env["OPSLEDGER_KAFKA_BOOTSTRAP"],
                          Topics(env["OPSLEDGER_KAFKA_TOPIC_PREFIX"]), store,  # type: ignore[arg-type]
                          ALL_FOLDS, group_id=env["OPSLEDGER_PROJECTOR_GROUP"],
                          batch_size=int(env["OPSLEDGER_PROJECTOR_BATCH"]),
                          poll_timeout_ms=200)
    projector.run(threading.Event())


if __name__ == "__main__":
    main()
