"""Building and running a projector from the settings: what ``opsledger projector``
(and ``python -m services.projector``, the same command) calls.

Generations: the projector writes into the *active* generation of the read models
(see :mod:`infra.read_store.mongo`), as a member of that generation's consumer
group (``projector_group + group_suffix``). A watcher reads the pointer every few
seconds; when ``opsledger rebuild`` switches it, the projector finishes its batch,
leaves the old group and starts over on the new generation, from the offsets the
rebuild committed in the new group. So the old generation gets no more writes once
every projector has moved, and nothing is skipped.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from infra.kafka.projector import Projector
from infra.kafka.topics import Topics
from infra.read_store.port import ReadStore
from infra.settings import Settings
from projections.registry import ALL_FOLDS

if TYPE_CHECKING:
    import pymongo

    from infra.read_store.mongo import MongoReadStore

log = logging.getLogger(__name__)

__all__ = ["MissingSettingError", "crash_hook_from_env", "open_store", "require_distributed",
           "run_projector"]

WATCH_SECONDS = 3.0
"""How often a running projector looks for a switch of the active generation."""

CRASH_AFTER_WRITE = "OPSLEDGER_PROJECTOR_CRASH_AFTER_WRITE"
"""Test only: SIGKILL the process right after its N-th store write, before that
batch's offsets are committed (the crash window the fault tests exercise)."""

T = TypeVar("T")


class MissingSettingError(RuntimeError):
    """The projector runs in distributed mode only: Kafka and MongoDB must be named."""


def require_distributed(settings: Settings) -> tuple[str, str]:
    missing = [
        name for name, value in (("OPSLEDGER_KAFKA_BOOTSTRAP", settings.kafka_bootstrap),
                                 ("OPSLEDGER_MONGO_URI", settings.mongo_uri))
        if not value
    ]
    if missing:
        raise MissingSettingError(
            f"the projector needs {' and '.join(missing)} (it folds Kafka topics into "
            "MongoDB); the embedded mode follows the event store in-process instead"
        )
    return settings.kafka_bootstrap or "", settings.mongo_uri or ""


def crash_hook_from_env() -> Callable[[int], None] | None:
    """The ``after_store_commit`` hook :data:`CRASH_AFTER_WRITE` asks for, if set."""
    raw = os.environ.get(CRASH_AFTER_WRITE, "").strip()
    if not raw:
        return None
    crash_at = int(raw)

    def after_store_commit(writes: int) -> None:
        if writes >= crash_at:
            log.warning("%s=%d: killing this process after the store write, before the "
                        "offset commit", CRASH_AFTER_WRITE, crash_at)
            os.kill(os.getpid(), signal.SIGKILL)
            os._exit(137)  # pragma: no cover - not reached

    return after_store_commit


def _retrying(what: str, attempt: Callable[[], T], stop: threading.Event,
              max_backoff: float = 10.0) -> T | None:
    """``attempt()`` until it answers (bounded backoff) or ``stop``: outages of either
    server are waited out, never a crash. ``None`` when stopped first."""
    backoff = 0.5
    while not stop.is_set():
        try:
            return attempt()
        except Exception as e:
            log.warning("%s not available (%s: %s); retrying in %.1fs",
                        what, type(e).__name__, e, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
    return None


def open_store(settings: Settings, stop: threading.Event, *, prefix: str | None = None,
               max_backoff: float = 10.0,
               client: pymongo.MongoClient | None = None) -> MongoReadStore | None:
    """The MongoDB read store of generation ``prefix`` (``None``: following the active
    one), waiting (bounded backoff) until it answers or ``stop``."""
    from infra.read_store.mongo import MongoReadStore

    _, uri = require_distributed(settings)
    return _retrying(
        f"MongoDB (database {settings.mongo_db})",
        lambda: MongoReadStore(uri, settings.mongo_db, prefix=prefix, client=client),
        stop, max_backoff,
    )


def _new_projector(settings: Settings, store: ReadStore, group: str, stop: threading.Event,
                   after_store_commit: Callable[[int], None] | None) -> Projector | None:
    bootstrap = settings.kafka_bootstrap or ""
    return _retrying(
        f"Kafka at {bootstrap}",
        lambda: Projector(
            bootstrap, Topics(settings.kafka_topic_prefix), store, ALL_FOLDS,
            group_id=group, batch_size=settings.projector_batch,
            after_store_commit=after_store_commit,
            group_instance_id=settings.projector_instance_id,
            session_timeout_ms=settings.projector_session_timeout_ms,
            heartbeat_interval_ms=settings.projector_heartbeat_interval_ms,
        ),
        stop,
    )


def _project(projector: Projector, stop: threading.Event) -> None:
    """Run until ``stop``; closes the projector (leaving its group) either way."""
    started = time.monotonic()
    try:
        projector.run(stop)
        log.info("projector %s: %d records in %.0fs", projector.group_id,
                 projector.stats.records, time.monotonic() - started)
    finally:
        projector.close()


def _watch(pointer: MongoReadStore, prefix: str, stop: threading.Event,
           turn_over: threading.Event, every: float) -> None:
    """Set ``turn_over`` when ``stop`` is set or generation ``prefix`` stops serving."""
    next_look = time.monotonic() + every
    # Short waits: the projector may also end on its own, and then nobody should
    # wait a whole ``every`` for this thread.
    while not turn_over.wait(0.25):
        if stop.is_set():
            break
        if time.monotonic() < next_look:
            continue
        next_look = time.monotonic() + every
        try:
            active, _ = pointer.active_generation()
        except Exception as e:  # MongoDB down: the projector waits it out too
            log.warning("cannot read the active generation (%s: %s)", type(e).__name__, e)
            continue
        if active != prefix:
            log.info("the active generation moved from %r to %r: moving over",
                     prefix, active)
            break
    turn_over.set()


def _run_generation(settings: Settings, pointer: MongoReadStore, stop: threading.Event,
                    after_store_commit: Callable[[int], None] | None,
                    watch_seconds: float) -> None:
    """Project into the active generation until ``stop`` or the next switch."""
    generation = _retrying("MongoDB (the active generation)", pointer.active_generation, stop)
    if generation is None:
        return
    prefix, group_suffix = generation
    store = open_store(settings, stop, prefix=prefix, client=pointer.client)
    if store is None:
        return
    turn_over = threading.Event()
    watcher = threading.Thread(target=_watch, name="projector-generation-watch",
                               args=(pointer, prefix, stop, turn_over, watch_seconds),
                               daemon=True)
    watcher.start()
    try:
        projector = _new_projector(settings, store, settings.projector_group + group_suffix,
                                   turn_over, after_store_commit)
        if projector is not None:
            log.info("projector %s: generation %r", projector.group_id, prefix)
            _project(projector, turn_over)
    finally:
        turn_over.set()
        watcher.join()
        store.close()


def run_projector(
    settings: Settings, stop: threading.Event, *,
    after_store_commit: Callable[[int], None] | None = None,
    store: ReadStore | None = None, watch_seconds: float = WATCH_SECONDS,
) -> None:
    """Project ``settings.kafka_topic_prefix``'s topics into the active generation of
    ``settings.mongo_db`` until ``stop`` is set, moving to each new generation a
    rebuild switches in (checked every ``watch_seconds``). Waits out outages of
    either server at start and while running; raises :class:`MissingSettingError`
    if the distributed settings are missing.

    With ``store`` given, projects into that store alone as
    ``settings.projector_group`` and follows no generation."""
    require_distributed(settings)
    if store is not None:
        projector = _new_projector(settings, store, settings.projector_group, stop,
                                   after_store_commit)
        if projector is not None:
            _project(projector, stop)
        return
    pointer = open_store(settings, stop)
    if pointer is None:
        return
    try:
        while not stop.is_set():
            _run_generation(settings, pointer, stop, after_store_commit, watch_seconds)
    finally:
        pointer.close()
