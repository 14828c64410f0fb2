"""The projector's pipeline under a crash, against real Kafka and FerretDB: kill -9 in
the middle of a write while the next batch is folded over it, then a restart. The
read models end equal to the events folded once, in order (the oracle), and nothing
is applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pymongo
import pytest

from benchmarks.projector_bench import History, realistic_history
from infra.kafka.projector.lag import group_lag
from tests.fault.test_projector_faults import ProjectorProcess, committed_offsets, project_roster
from tests.integration.test_projector import (
    assert_matches_oracle,
    create_topics,
    produce,
    stored,
    wait_caught_up,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_mid_write_while_the_next_batch_folds_then_restart(
    servers: Any, mongo_db: str, topic_prefix: str, tmp_path: Path,
) -> None:
    history: History = realistic_history(240, seed=29, members=4)
    topics = create_topics(servers.kafka_bootstrap, topic_prefix)
    group = f"{topic_prefix}-projector"
    project_roster(servers, topics, mongo_db, group, history)
    produce(servers.kafka_bootstrap, topics, history.activity)
    with pymongo.MongoClient(servers.mongo_uri) as client:
        audited_before = client[mongo_db]["audit_trail"].count_documents({})

    # Given a projector that dies half-way through its third write, the fourth batch
    # being folded over it meanwhile
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSLEDGER_")}
    env.update({
        "OPSLEDGER_KAFKA_BOOTSTRAP": servers.kafka_bootstrap,
        "OPSLEDGER_MONGO_URI": servers.mongo_uri, "OPSLEDGER_MONGO_DB": mongo_db,
        "OPSLEDGER_KAFKA_TOPIC_PREFIX": topic_prefix, "OPSLEDGER_PROJECTOR_GROUP": group,
        "OPSLEDGER_PROJECTOR_BATCH": "20", "MIDWRITE_CRASH_AT": "3",
        "PYTHONUNBUFFERED": "1",
    })
    log = tmp_path / "doomed.log"
    with log.open("wb") as out:
        doomed = subprocess.run([sys.executable, "-m", "tests.fault.midwrite_projector"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                timeout=180, check=False)
    output = log.read_text(errors="replace")
    assert doomed.returncode == -signal.SIGKILL, output[-3000:]
    assert "midwrite: wrote" in output, output[-3000:]

    # Then the batches before it are audited and committed, and the third is half
    # written (one compliance record per event, audit records only for those before)
    committed = sum(committed_offsets(servers.kafka_bootstrap, group).values())
    docs = stored(servers.mongo_uri, mongo_db)
    audited = sum(1 for c, _ in docs if c == "audit_trail")
    recorded = sum(1 for c, _ in docs if c == "compliance_history")
    assert audited > audited_before
    assert committed == audited
    assert recorded > audited
    assert group_lag(servers.kafka_bootstrap, topics, group) == len(history.all) - committed

    # When a projector restarts on the same group
    survivor = ProjectorProcess(servers, mongo_db, topic_prefix, group, tmp_path / "p2.log")
    try:
        wait_caught_up(servers.kafka_bootstrap, topics, group, timeout=240,
                       alive=survivor.alive)
        assert survivor.stop() == 0, survivor.tail()
    finally:
        if survivor.alive():
            survivor.proc.kill()
            survivor.proc.wait(timeout=10)

    # Then the read models are those of a clean run, nothing applied twice
    assert_matches_oracle(servers.mongo_uri, mongo_db, history.all)
    docs = stored(servers.mongo_uri, mongo_db)
    assert sum(1 for c, _ in docs if c == "audit_trail") == len(history.all)
    for (collection, _), doc in docs.items():
        if "event_ids" in doc:
            assert len(doc["event_ids"]) == len(set(doc["event_ids"])), (collection, doc["_id"])
