"""One turn of the Kafka projector (poll, fold, write, offsets) against the real
servers: the cyclic collector stays off for all of it and is back on after."""

from __future__ import annotations

import gc
from collections.abc import Mapping
from typing import Any

import pytest

from benchmarks.projector_bench import realistic_history
from infra.read_store.mongo import MongoReadStore
from projections.fold import Document
from tests.integration.test_projector import (
    assert_matches_oracle,
    create_topics,
    new_projector,
    produce,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


class WatchedStore(MongoReadStore):
    """The MongoDB store, noting whether the collector ran while it was read and written."""

    collecting: list[bool]

    def get_many(self, collection: str, doc_ids: list[str]) -> dict[str, Document]:
        self.collecting.append(gc.isenabled())
        return super().get_many(collection, doc_ids)

    def commit(self, changes: Mapping[tuple[str, str], Document],
               checkpoint: tuple[str, int], **kwargs: Any) -> Any:
        self.collecting.append(gc.isenabled())
        return super().commit(changes, checkpoint, **kwargs)


def test_the_collector_is_paused_over_a_turn_and_resumed_after_it(
    servers: Any, mongo_db: str, topic_prefix: str,
) -> None:
    history = realistic_history(120, seed=5, members=3)
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    store = WatchedStore(servers.mongo_uri, mongo_db)
    store.collecting = []
    projector = new_projector(servers, topics, mongo_db, f"{topic_prefix}-g", store=store)
    produce(servers.kafka_bootstrap, topics, history.all)
    assert gc.isenabled()
    try:
        def drained() -> bool:
            projector.run_once()
            assert gc.isenabled()  # back on between turns
            return projector.stats.records >= len(history.all)

        wait_until(drained, 60, "the projector to fold every event", interval=0)
    finally:
        projector.close()
        store.close()

    assert store.collecting and not any(store.collecting)
    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
