"""The outbox relay service: the event store's events, published to Kafka exactly once.

``python -m services.relay [--data-dir DIR]`` runs it until SIGTERM/SIGINT;
``opsledger relay`` calls :func:`run_relay`.
"""

from __future__ import annotations

import logging
import threading

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


def build_relay(settings: Settings, ledger: Ledger) -> Relay:
    if not settings.kafka_bootstrap:
        raise RelayConfigError("the relay needs OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a broker)")
    return Relay(
        ledger,
        settings.kafka_bootstrap,
        Topics(settings.kafka_topic_prefix),
        transactional_id=transactional_id(settings),
        batch_size=settings.relay_batch,
    )


def run_relay(settings: Settings, stop: threading.Event, *, kafka_wait: float = 60.0) -> None:
    """Create missing topics, then relay until ``stop`` is set.

    Waits up to ``kafka_wait`` seconds for the broker at start (then gives up with
    ``KafkaTimeoutError``); once running, outages are ridden out with back-off.
    """
    if not settings.kafka_bootstrap:
        raise RelayConfigError("the relay needs OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a broker)")
    ledger = open_ledger(settings)
    try:
        topics = Topics(settings.kafka_topic_prefix)
        wait_for_kafka(settings.kafka_bootstrap, timeout=kafka_wait)
        create_topics(
            settings.kafka_bootstrap, topics, settings.kafka_partitions,
            settings.kafka_replication_factor,
        )
        relay = build_relay(settings, ledger)
        log.info("relaying %s to Kafka at %s (topics %s.*)", settings.event_store_path,
                 settings.kafka_bootstrap, settings.kafka_topic_prefix)
        relay.run(stop)
    finally:
        ledger.close()
