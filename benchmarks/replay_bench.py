"""How fast a million events replay and rebuild, and what the processes weigh.

    python -m benchmarks.replay_bench                    # 1,000,000 events
    python -m benchmarks.replay_bench --events 50000     # a quicker look

1. makes (once, then keeps under ``benchmarks/.data/``) a SQLite event store of about
   ``--events`` events through the real domain (:mod:`benchmarks.replay_data`);
2. runs ``opsledger replay`` into a fresh folder and ``opsledger rebuild`` of the data
   folder's read models, each as its own process: wall time, events/s, peak RSS; and
   between them the same replay with the store's writing taken away
   (:mod:`benchmarks.replay_ceiling`), the most a faster store could give;
3. folds a sample in memory, no I/O (the projector's fold path, as
   :mod:`benchmarks.projector_bench` measures it);
4. with ``OPSLEDGER_KAFKA_BOOTSTRAP`` and ``OPSLEDGER_MONGO_URI``: the projector into
   the MongoDB-wire server against the server's bare-insert ceiling, both in this run
   (``projector_bench``'s own steps, on a sample of the store's events);
5. serves the data folder (``opsledger serve``), asks a few routes and reads the
   server's resident memory from /proc.

Prints one table with the issue's targets beside the figures; asserts nothing. On a
shared machine the figures are noisy: read them as indicative.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from benchmarks.machine import LOOP_STEPS, QUICK_MACHINE_SECONDS, python_loop_seconds
from benchmarks.replay_data import DEFAULT_ROOT, dataset

AS_OF = "2100-01-01T00:00:00"
"""After every event: a replay as of then holds everything."""


@dataclass
class Row:
    name: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Run:
    seconds: float
    cpu_seconds: float
    rss_mb: float
    stdout: str


def _embedded_env() -> dict[str, str]:
    """This environment without the distributed mode's servers: the embedded default
    is what replay, rebuild and serve are measured on (the projector row uses them)."""
    return {k: v for k, v in os.environ.items()
            if k not in ("OPSLEDGER_KAFKA_BOOTSTRAP", "OPSLEDGER_MONGO_URI")}


def _cli(*args: str) -> Run:
    """``opsledger <args>`` as its own process: its wall time and peak RSS."""
    return _module("services.cli", *args)


def _module(module: str, *args: str) -> Run:
    """``python -m <module> <args>`` as its own process: its wall time and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", module, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=_embedded_env())
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args[:1])} exited {proc.returncode}: "
                           f"{out[-500:]}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out)


def _events_in(out: str, verb: str) -> int:
    found = re.search(rf"{verb} (\d+) events", out)
    if found is None:
        raise RuntimeError(f"no event count in: {out[-300:]}")
    return int(found.group(1))


def _split_row(name: str, out: str) -> list[Row]:
    """Where the time went (the command's ``time:`` line): which side bounds it."""
    found = re.search(r"^time: (.*)$", out, re.MULTILINE)
    return [Row(f"{name}: fold vs write", 0, "", note=found.group(1))] if found else []


def _rate_rows(name: str, run: Run, events: int) -> list[Row]:
    rate = events / run.seconds
    # On a busy machine the process waits for a core: its CPU time says what it costs.
    per_cpu = events / run.cpu_seconds if run.cpu_seconds else 0.0
    # wait4's peak is the largest process's, not the sum: the children print theirs
    # (the one reading the log, the one writing the read store).
    children = re.findall(r"by a child process \([^)]*peak (\d+) MB\)", run.stdout)
    child_mb = sum(float(mb) for mb in children)
    return [*_split_row(name, run.stdout),
        Row(f"{name}: events/s", rate, "events/s", ">= 20,000", rate >= 20_000,
            f"{run.cpu_seconds:,.1f} CPU-s, {per_cpu:,.0f} events per CPU-second"),
        Row(f"{name}: wall for {events:,} events", run.seconds, "s",
            "< 60 s for 1M", run.seconds * 1_000_000 / events < 60,
            f"{run.seconds * 1_000_000 / events:,.0f} s per 1M at this rate"),
        Row(f"{name}: peak RSS", run.rss_mb, "MB", "< 300 MB",
            run.rss_mb + child_mb < 300,
            f"+ {child_mb:,.0f} MB in the {len(children)} child process(es) reading "
            "the log and writing the store (met: the sum)" if children else ""),
    ]


def replay_rows(folder: Path) -> list[Row]:
    into = Path(tempfile.mkdtemp(prefix="opsledger-replay-"))
    shutil.rmtree(into)  # replay wants a folder it makes itself
    try:
        run = _cli("replay", "--data-dir", str(folder), "--into", str(into), "--as-of", AS_OF)
    finally:
        shutil.rmtree(into, ignore_errors=True)
    return _rate_rows("opsledger replay", run, _events_in(run.stdout, "replayed"))


def ceiling_rows(folder: Path) -> list[Row]:
    """The same replay with the store's writing taken away (:mod:`.replay_ceiling`)."""
    run = _module("benchmarks.replay_ceiling", "--data-dir", str(folder))
    events = _events_in(run.stdout, "replayed")
    rate = events / run.seconds
    return [Row("replay, the store's writes discarded", rate, "events/s", ">= 20,000",
                rate >= 20_000, f"{run.cpu_seconds:,.1f} CPU-s: the most any change to "
                "the store's writing could give on this machine")]


def rebuild_rows(folder: Path) -> list[Row]:
    run = _cli("rebuild", "--data-dir", str(folder))
    return _rate_rows("opsledger rebuild", run, _events_in(run.stdout, "rebuilt"))


def _sample(folder: Path, size: int) -> list:
    from infra.event_store import key_store, open_ledger
    from infra.event_store.log import iter_envelopes
    from infra.settings import Settings

    ledger = open_ledger(Settings(data_dir=folder))
    try:
        return list(itertools.islice(iter_envelopes(ledger), size))
    finally:
        ledger.close()
        keys = key_store(ledger)
        if keys is not None:
            keys.close()


def fold_rows(events: list) -> list[Row]:
    from benchmarks.projector_bench import _cpu_only

    decode, fold = _cpu_only(events, 2000)
    return [Row(f"fold only, no I/O (sample {len(events):,})", fold.rate, "events/s",
                ">= 40,000", fold.rate >= 40_000),
            Row("decode + upcast only, no I/O", decode.rate, "events/s")]


def projector_rows(events: list) -> list[Row]:
    bootstrap = os.environ.get("OPSLEDGER_KAFKA_BOOTSTRAP")
    uri = os.environ.get("OPSLEDGER_MONGO_URI")
    if not bootstrap or not uri:
        return [Row("projector -> MongoDB wire", 0, "", ">= 80% of bare insert", None,
                    "skipped: set OPSLEDGER_KAFKA_BOOTSTRAP and OPSLEDGER_MONGO_URI")]
    import logging

    import pymongo
    from kafka import KafkaAdminClient

    from benchmarks.projector_bench import _insert_ceiling, _produce, _project
    from infra.kafka.topics import Topics
    from infra.read_store.mongo import MongoReadStore

    logging.getLogger("kafka").setLevel(logging.CRITICAL)
    run = uuid4().hex[:8]
    topics, db_name = Topics(f"rbench{run}"), f"rbench_{run}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="opsledger-replay-bench")
    admin.create_topics(topics.specs(partitions=3), wait_for_metadata=True)
    try:
        _produce(bootstrap, topics, events)
        store = MongoReadStore(uri, db_name)
        try:
            projected = _project(bootstrap, topics, store, f"rbench{run}", 2000, 900.0,
                                 len(events))
        finally:
            store.close()
        ceiling = _insert_ceiling(uri, f"{db_name}_ceiling", events, 2000)
    finally:
        with pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            client.drop_database(db_name)
        admin.delete_topics(list(topics.specs()))
        admin.close()
    share = projected.rate / ceiling.rate if ceiling.rate else 0.0
    return [
        Row(f"projector -> MongoDB wire ({len(events):,} events)", projected.rate,
            "events/s", note=projected.note),
        Row("server's bare-insert ceiling, same documents", ceiling.rate, "events/s",
            note=ceiling.note),
        Row("projector / bare insert", share * 100, "%", ">= 80%", share >= 0.8),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(base: str, path: str, token: str) -> int:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        return int(response.status)


def api_rows(folder: Path) -> list[Row]:
    """``opsledger serve`` on the data folder (its read models rebuilt just before),
    a few reads, then the server's resident memory."""
    from infra.auth import admin_token_in, ensure_admin_token

    if not (folder / "readmodels.sqlite").exists():
        # A new store's read models were never built (--skip rebuild): serve would fold
        # every event through its follower before it answers, for many minutes.
        print("  no read models in the data folder yet: opsledger rebuild first ...",
              flush=True)
        _cli("rebuild", "--data-dir", str(folder))
    path, _ = ensure_admin_token(folder)
    token = admin_token_in(path) or ""
    port = _free_port()
    env = {**_embedded_env(), "OPSLEDGER_DATA_DIR": str(folder)}
    server = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--data-dir", str(folder),
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if _get(base, "/readyz", token) == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("opsledger serve was not ready in 10 minutes")
        ready = time.monotonic() - started
        teams = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/v1/teams", headers={"Authorization": f"Bearer {token}"}),
            timeout=60).read())
        first = (teams.get("items") or [{}])[0].get("id", "")
        for route in ("/v1/incidents?limit=50", "/v1/feedback?limit=50", "/v1/goals?limit=50",
                      "/v1/audit?limit=50", f"/v1/teams/{first}"):
            _get(base, route, token)
        findings = []  # evaluated on every request: the first and a second
        for _ in range(2):
            began = time.monotonic()
            _get(base, "/v1/compliance/findings?limit=50", token)
            findings.append(time.monotonic() - began)
        status = Path(f"/proc/{server.pid}/status").read_text()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
        peak = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:  # left running, it would skew every later run
            print("opsledger serve did not stop within 60 s of SIGTERM; killed it",
                  file=sys.stderr)
            server.kill()
            server.wait()
    return [Row("opsledger serve: ready after", ready, "s"),
            Row("GET /v1/compliance/findings?limit=50", findings[0], "s",
                note=f"again: {findings[1]:,.1f} s"),
            Row("opsledger serve: resident after serving", rss, "MB", "< 200 MB", rss < 200,
                f"peak {peak:,.0f} MB")]


def _table(rows: list[Row]) -> str:
    width = max(len(r.name) for r in rows)
    lines = [f"{'figure':<{width}}  {'value':>12}  {'unit':<9}  {'target':<22}  met   note",
             "-" * (width + 70)]
    for r in rows:
        met = "" if r.met is None else ("yes" if r.met else "NO")
        value = f"{r.value:>12,.1f}" if r.unit in ("s", "MB", "%") else f"{r.value:>12,.0f}"
        if not r.unit:
            value = " " * 12
        lines.append(f"{r.name:<{width}}  {value}  {r.unit:<9}  {r.target:<22}  "
                     f"{met:<4}  {r.note}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.replay_bench",
                                     description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT,
                        help="where the generated stores are kept")
    parser.add_argument("--fold-sample", type=int, default=100_000)
    parser.add_argument("--projector-sample", type=int, default=50_000)
    parser.add_argument("--skip", action="append", default=[],
                        choices=("replay", "ceiling", "rebuild", "fold", "projector", "api"))
    args = parser.parse_args(argv)

    folder, made = dataset(args.events, args.data_root)
    loop = python_loop_seconds()
    rows = [Row(f"this machine: a {LOOP_STEPS:,}-step Python loop", loop, "s",
                note=f"a quick machine: about {QUICK_MACHINE_SECONDS} s; read the figures "
                     "below in proportion"),
            Row("store: events made by the domain", made["head"], "positions",
                note=f"made once in {made['seconds']:,.0f} s, kept in {folder}")]
    steps = [("replay", lambda: replay_rows(folder)), ("ceiling", lambda: ceiling_rows(folder)),
             ("rebuild", lambda: rebuild_rows(folder))]
    # Read when first needed, after the replays: a replay started while this process
    # held the sample would be forked with it, and its peak RSS (wait4's) would count
    # this process's pages (198 instead of 171 MB on the 200k store).
    sample = functools.cache(lambda: _sample(folder, max(args.fold_sample,
                                                         args.projector_sample)))
    steps += [("fold", lambda: fold_rows(sample()[: args.fold_sample])),
              ("projector", lambda: projector_rows(sample()[: args.projector_sample])),
              ("api", lambda: api_rows(folder))]
    try:
        for name, step in steps:
            if name in args.skip:
                continue
            print(f"measuring {name} ...", flush=True)
            rows += step()
    finally:
        print(_table(rows), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
