"""Makes the golden fold's files (``python -m tests.unit.projections.golden.make_golden``).

Run once, by the engine the golden pins (commit ``077917c``, before issue 15's fold
engine): it runs ``opsledger demo`` in process into a temporary data folder, then places
and releases a legal hold and erases a member, and reads the 3,000 first events of the
replay benchmark's store (``benchmarks/.data/<fingerprint>-200000``, made by
``python -m benchmarks.replay_bench``). Re-running it with a later engine would pin that
engine instead: only do so on purpose, when a fold's documents are meant to change.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.unit.projections.golden import DIGESTS, EVENTS, MODES, fold_digests, load_histories

TOKEN = "golden-admin-token-123456"
TOKENS = json.dumps({TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}})


def demo_events() -> list[dict[str, Any]]:
    from fastapi.testclient import TestClient
    from rich.console import Console

    from infra.event_store import open_ledger
    from infra.event_store.log import iter_envelopes
    from infra.settings import Settings
    from services.api.app import create_app
    from services.cli.demo import run_demo

    auth = {"Authorization": f"Bearer {TOKEN}"}
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(data_dir=Path(tmp), tokens=TOKENS))
        with TestClient(app, base_url="http://testserver") as client:
            run_demo("http://testserver", TOKEN, client=client,
                     console=Console(file=io.StringIO()))
            teams = client.get("/v1/teams", headers=auth).json()["items"]
            hold = client.post("/v1/legal-holds", headers=auth,
                               json={"reason": "audit", "team_id": teams[0]["id"]})
            hold_id = hold.json()["hold_id"]
            client.post(f"/v1/legal-holds/{hold_id}/release", headers=auth,
                        json={"reason": "audit closed"}).raise_for_status()
            member = teams[1]["roster"][1]["member_id"]
            client.post(f"/v1/members/{member}/erase", headers=auth,
                        json={"reason": "asked to be forgotten"}).raise_for_status()
        ledger = open_ledger(Settings(data_dir=Path(tmp)))
        try:
            return [e.as_dict() for e in iter_envelopes(ledger)]
        finally:
            ledger.close()


def bench_events(count: int = 3000) -> list[dict[str, Any]]:
    from benchmarks.replay_data import DEFAULT_ROOT, fingerprint
    from infra.event_store import key_store, open_ledger
    from infra.event_store.log import iter_envelopes
    from infra.settings import Settings

    ledger = open_ledger(Settings(data_dir=DEFAULT_ROOT / f"{fingerprint()}-200000"))
    try:
        return [e.as_dict() for e in itertools.islice(iter_envelopes(ledger), count)]
    finally:
        ledger.close()
        keys = key_store(ledger)
        if keys is not None:
            keys.close()


def main() -> int:
    histories = {"demo": demo_events(), "bench": bench_events()}
    with gzip.open(EVENTS, "wt", encoding="utf-8") as f:
        json.dump(histories, f, separators=(",", ":"))
    golden: dict[str, Any] = {}
    for name, events in load_histories().items():
        folded = {mode: fold_digests(events, mode) for mode in MODES}
        documents = folded["one batch from nothing"]["documents"]
        if any(f["documents"] != documents for f in folded.values()):
            print(f"{name}: the ways of folding disagree; no golden made", file=sys.stderr)
            return 1
        golden[name] = {"documents": documents,
                        "batches": {mode: f["batches"] for mode, f in folded.items()}}
        print(f"{name}: {len(events)} events, {len(documents)} documents", file=sys.stderr)
    with gzip.open(DIGESTS, "wt", encoding="utf-8") as f:
        json.dump(golden, f, separators=(",", ":"), sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
