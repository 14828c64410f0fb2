"""Topic creation and broker reachability, on kafka-python 3.x's admin client.

Both are safe to call on every start: ``create_topics`` only creates what is
missing (an existing topic, or one created concurrently by another process, is
fine), and ``wait_for_kafka`` only reads metadata.
"""

from __future__ import annotations

import logging
import socket
import time

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError

from infra.kafka.topics import Topics

log = logging.getLogger(__name__)

_ALREADY_EXISTS = TopicAlreadyExistsError.errno


def bootstrap_addresses(bootstrap: str) -> list[tuple[str, int]]:
    """``"host:port,host2:port2"`` as (host, port) pairs (port 9092 if left out)."""
    addresses = []
    for part in bootstrap.split(","):
        part = part.strip()
        if not part:
            continue
        if part.startswith("["):  # [ipv6]:port
            host, _, port = part[1:].partition("]")
            port = port.lstrip(":")
        else:
            host, _, port = part.rpartition(":") if ":" in part else (part, "", "")
        addresses.append((host, int(port or 9092)))
    if not addresses:
        raise ValueError(f"no Kafka bootstrap address in {bootstrap!r}")
    return addresses


def reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    """Whether any bootstrap address accepts a TCP connection.

    A cheap check before building a kafka-python client: a client whose bootstrap
    fails raises ``KafkaTimeoutError`` but leaves its I/O thread running, so retry
    loops should not build one while nothing listens.
    """
    for host, port in bootstrap_addresses(bootstrap):
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def _admin(bootstrap: str, timeout: float) -> KafkaAdminClient:
    if not reachable(bootstrap, timeout=min(timeout, 2.0)):
        raise KafkaTimeoutError(f"no Kafka broker listens at {bootstrap}")
    ms = max(int(timeout * 1000), 1000)
    return KafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="opsledger-admin",
        bootstrap_timeout_ms=ms, request_timeout_ms=ms,
    )


def wait_for_kafka(bootstrap: str, timeout: float = 30.0) -> None:
    """Return once a broker at ``bootstrap`` answers a metadata request.

    Raises ``KafkaTimeoutError`` if none does within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    delay = 0.1
    last_error: Exception | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise KafkaTimeoutError(
                f"Kafka at {bootstrap} did not answer within {timeout:.0f}s: {last_error}"
            )
        try:
            admin = _admin(bootstrap, max(remaining, 1.0))
            try:
                admin.list_topics()
                return
            finally:
                admin.close()
        except (KafkaError, OSError) as e:
            last_error = e
        time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
        delay = min(delay * 2, 2.0)


def create_topics(
    bootstrap: str, topics: Topics, partitions: int = 3, replication_factor: int = 1,
    min_insync_replicas: int | None = None, timeout: float = 30.0,
) -> list[str]:
    """Create every OpsLedger topic that does not exist yet; return the names created.

    Idempotent: existing topics (whatever their settings) are left alone, and a topic
    that another process creates at the same moment counts as existing. Returns once
    every topic has a leader for each partition.
    """
    specs = topics.specs(partitions, replication_factor, min_insync_replicas)
    admin = _admin(bootstrap, timeout)
    try:
        existing = set(admin.list_topics())
        missing = {name: spec for name, spec in specs.items() if name not in existing}
        created: list[str] = []
        if missing:
            result = admin.create_topics(
                missing, timeout_ms=int(timeout * 1000), raise_errors=False,
            )
            for topic in result["topics"]:
                code = topic["error_code"]
                if code == 0:
                    created.append(topic["name"])
                elif code != _ALREADY_EXISTS:
                    message = topic.get("error_message") or ""
                    raise KafkaError(
                        f"cannot create topic {topic['name']}: error {code} {message}".strip()
                    )
        admin.wait_for_topics(list(specs), timeout_ms=int(timeout * 1000))
        if created:
            log.info("created Kafka topics: %s", ", ".join(sorted(created)))
        return sorted(created)
    finally:
        admin.close()
