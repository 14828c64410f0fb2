"""The outbox relay service: the event store's events, published to Kafka exactly once.

``python -m services.relay [--data-dir DIR]`` runs it until SIGTERM/SIGINT;
``opsledger relay`` calls :func:`run_relay`.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from kafka.errors import KafkaError

from domain.ledger import Ledger
from infra.event_store import open_ledger
from infra.kafka.admin import create_topics, wait_for_kafka
from infra.kafka.relay import Relay
from infra.kafka.topics import Topics
from infra.settings import Settings

log = logging.getLogger(__name__)


class RelayConfigError(RuntimeError):
    """The relay cannot start with these settings."""


def transactional_id(settings: Settings) -> str:
    """Stable per deployment (topic prefix), so a restarted relay fences its zombie."""
    return f"{settings.kafka_topic_prefix}-relay"


def build_relay(settings: Settings, ledger: Ledger, **options: Any) -> Relay:
    """The relay these settings describe (``options`` go to :class:`Relay`)."""
    if not settings.kafka_bootstrap:
        raise RelayConfigError("the relay needs OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a broker)")
    return Relay(
        ledger,
        settings.kafka_bootstrap,
        Topics(settings.kafka_topic_prefix),
        transactional_id=transactional_id(settings),
        batch_size=settings.relay_batch,
        **{"fast": settings.relay_fast_path, **options},
    )


def run_relay(settings: Settings, stop: threading.Event, *, max_backoff: float = 10.0) -> None:
    """Create missing topics, then relay until ``stop`` is set.

    Never gives up on Kafka: while no broker answers (at start or later) it logs,
    backs off (up to ``max_backoff`` seconds) and tries again, until ``stop``.
    """
    if not settings.kafka_bootstrap:
        raise RelayConfigError("the relay needs OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a broker)")
    bootstrap = settings.kafka_bootstrap
    topics = Topics(settings.kafka_topic_prefix)
    ledger = open_ledger(settings)
    try:
        backoff = 0.5
        while not stop.is_set():
            try:
                wait_for_kafka(bootstrap, timeout=2.0)
                create_topics(bootstrap, topics, settings.kafka_partitions,
                              settings.kafka_replication_factor)
                break
            except KafkaError as e:
                log.warning("relay: Kafka at %s: %s; retrying in %.1fs", bootstrap, e, backoff)
                stop.wait(backoff)
                backoff = min(backoff * 2, max_backoff)
        if stop.is_set():
            return
        relay = build_relay(settings, ledger, max_backoff=max_backoff)
        log.info("relaying %s to Kafka at %s (topics %s.*)", settings.event_store_path,
                 bootstrap, topics.prefix)
        relay.run(stop)
    finally:
        ledger.close()
