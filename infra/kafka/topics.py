"""Topic names and their creation: one topic per context, kept forever.

Every name hangs off one prefix (``opsledger`` by default), so several
deployments, or tests, can share a cluster without seeing each other's events.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalog import CONTEXTS


@dataclass(frozen=True)
class Topics:
    prefix: str = "opsledger"

    def events(self, context: str) -> str:
        return f"{self.prefix}.{context}.events"

    @property
    def event_topics(self) -> tuple[str, ...]:
        return tuple(self.events(c) for c in CONTEXTS)

    @property
    def relay_checkpoint(self) -> str:
        return f"{self.prefix}.relay.checkpoint"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"

    def specs(
        self, partitions: int = 3, replication_factor: int = 1,
        min_insync_replicas: int | None = None,
    ) -> dict[str, dict[str, object]]:
        """kafka-python 3.x ``create_topics`` specs for every topic OpsLedger uses."""
        isr = {"min.insync.replicas": str(min_insync_replicas)} if min_insync_replicas else {}
        forever = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete",
                   **isr}
        specs: dict[str, dict[str, object]] = {
            t: {"num_partitions": partitions, "replication_factor": replication_factor,
                "configs": dict(forever)}
            for t in self.event_topics
        }
        specs[self.deadletter] = {"num_partitions": 1, "replication_factor": replication_factor,
                                  "configs": dict(forever)}
        specs[self.relay_checkpoint] = {
            "num_partitions": 1, "replication_factor": replication_factor,
            "configs": {"cleanup.policy": "compact", **isr},
        }
        return specs
