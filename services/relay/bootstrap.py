"""Building and running the outbox relay from the settings: what ``opsledger relay``
(and ``python -m services.relay``, the same command) calls."""

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


def require_kafka(settings: Settings) -> str:
    """The Kafka bootstrap servers; :class:`RelayConfigError` if none are set."""
    if not settings.kafka_bootstrap:
        raise RelayConfigError("the relay needs OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a broker)")
    return settings.kafka_bootstrap


def transactional_id(settings: Settings) -> str:
    """Stable per deployment (topic prefix), so a restarted relay fences its zombie."""
    return f"{settings.kafka_topic_prefix}-relay"


def build_relay(settings: Settings, ledger: Ledger, **options: Any) -> Relay:
    """The relay these settings describe (``options`` go to :class:`Relay`)."""
    return Relay(
        ledger,
        require_kafka(settings),
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
    bootstrap = require_kafka(settings)
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
