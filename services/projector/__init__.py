"""The projector service: Kafka event topics -> MongoDB read models.

``python -m services.projector`` runs one consumer-group member until SIGTERM/SIGINT;
start several for more throughput (up to one per partition). The CLI calls
:func:`run_projector` with its own settings and stop event.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from infra.kafka.projector import Projector
from infra.kafka.topics import Topics
from infra.read_store.port import ReadStore
from infra.settings import Settings
from projections.registry import ALL_FOLDS

log = logging.getLogger(__name__)

__all__ = ["MissingSettingError", "open_store", "run_projector"]


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


def open_store(settings: Settings, stop: threading.Event, *,
               max_backoff: float = 10.0) -> ReadStore | None:
    """The MongoDB read store, waiting (bounded backoff) until it answers or ``stop``."""
    from infra.read_store.mongo_store import MongoReadStore

    _, uri = require_distributed(settings)
    backoff = 0.5
    while not stop.is_set():
        try:
            return MongoReadStore(uri, settings.mongo_db)
        except Exception as e:  # the server is down or unreachable: wait, never crash
            log.warning("MongoDB (database %s) not available (%s: %s); retrying in %.1fs",
                        settings.mongo_db, type(e).__name__, e, backoff)
            stop.wait(backoff)
            backoff = min(backoff * 2, max_backoff)
    return None


def run_projector(
    settings: Settings, stop: threading.Event, *,
    after_store_commit: Callable[[int], None] | None = None,
    store: ReadStore | None = None,
) -> None:
    """Project ``settings.kafka_topic_prefix``'s topics as ``settings.projector_group``
    into ``settings.mongo_db`` until ``stop`` is set. Waits out outages of either
    server at start and while running; raises :class:`MissingSettingError` if the
    distributed settings are missing."""
    bootstrap, _ = require_distributed(settings)
    owns_store = store is None
    store = store or open_store(settings, stop)
    if store is None:
        return
    projector = None
    try:
        backoff = 0.5
        while projector is None and not stop.is_set():
            try:
                projector = Projector(
                    bootstrap, Topics(settings.kafka_topic_prefix), store, ALL_FOLDS,
                    group_id=settings.projector_group, batch_size=settings.projector_batch,
                    after_store_commit=after_store_commit,
                )
            except Exception as e:  # Kafka not reachable yet
                log.warning("Kafka at %s not available (%s: %s); retrying in %.1fs",
                            bootstrap, type(e).__name__, e, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        if projector is not None:
            started = time.monotonic()
            projector.run(stop)
            log.info("projector %s: %d records in %.0fs", settings.projector_group,
                     projector.stats.records, time.monotonic() - started)
    finally:
        if projector is not None:
            projector.close()
        if owns_store:
            store.close()
