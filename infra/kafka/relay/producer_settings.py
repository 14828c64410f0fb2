"""The relay's transactional producer, and why each of its settings is what it is."""

from __future__ import annotations

from typing import Any

from kafka import KafkaProducer

from infra.kafka.relay.producer_internals import default_compression


def relay_producer(bootstrap: str, transactional_id: str, operation_timeout: float,
                   overrides: dict[str, Any]) -> KafkaProducer:
    """A producer for exactly-once publication: transactional under ``transactional_id``
    (a restart fences the relay it replaces), all replicas acknowledging, idempotent;
    ``overrides`` (kafka-python's names) win over these settings."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "client_id": f"opsledger-relay-{transactional_id}",
        "transactional_id": transactional_id,
        "acks": "all",
        "enable_idempotence": True,
        # A transaction is flushed at its end anyway; linger lets the sender
        # fill big batches meanwhile instead of sending many small requests.
        "linger_ms": 50,
        "batch_size": 512 * 1024,
        "compression_type": default_compression(),
        "max_block_ms": int(operation_timeout * 1000),
        "request_timeout_ms": 15_000,
        "delivery_timeout_ms": int(operation_timeout * 1000),
        "transaction_timeout_ms": 60_000,
        "bootstrap_timeout_ms": 10_000,
        "reconnect_backoff_max_ms": 2_000,
        **overrides,
    }
    # kafka-python asks for a delivery timeout of at least linger plus one request.
    config["delivery_timeout_ms"] = max(
        config["delivery_timeout_ms"], config["linger_ms"] + config["request_timeout_ms"],
    )
    return KafkaProducer(**config)
