"""Commands and queries over HTTP, each against its baseline in the same run (issue 15).

    python -m benchmarks.api_bench                      # every row, 10 s each
    python -m benchmarks.api_bench --duration 5 --only get --only get-500

Starts three servers on free 127.0.0.1 ports, each one uvicorn process:

(a) the naive baseline, ``benchmarks/naive_app.py``: FastAPI calling eventsourcing's
    ``Application.save()`` once per request on SQLite, nothing else;
(b) a bare FastAPI route answering a constant document the size of OpsLedger's answer
    for one feedback item (``benchmarks/bare_app.py``; the document is that answer);
(c) OpsLedger, ``opsledger serve`` on a fresh temporary data folder, with a bearer token
    passed in ``OPSLEDGER_TOKENS``; seeded with a team, members and feedback.

Then drives them with the same load: ``wrk`` with 2 threads (Debian's package ``wrk``;
``apt-get install -y wrk``), and when wrk is not installed (or with ``--load python``)
the asyncio generator of ``benchmarks/loadgen.py``. The fixed-rate row always uses that
generator, open loop (wrk cannot hold a rate and wrk2 is not in Debian). The table says
which generator measured each figure.

Rows: ``post`` (POST /v1/feedback, --connections) and ``post-1`` (one connection),
against the naive baseline; ``get`` (GET /v1/feedback/{id}) against the bare route;
``page`` (GET /v1/feedback?limit=50) against this run's ``get``; ``get-500`` (the
99th percentile of GET /v1/feedback/{id} at --rate requests/s) beside the bare route at
the same rate. POST rows run first, so the reads run over a store of thousands of items.

Prints the table, the ratios and each target; asserts nothing (figures on a shared
2-core machine are indicative). Every server is stopped on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from benchmarks import loadgen
from benchmarks.loadgen import Request, Result

HOST = "127.0.0.1"
CHECKOUT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0
SEED_FEEDBACK = 200
ROWS = ("post", "post-1", "get", "page", "get-500")


# -- servers ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process so far (Linux), else None."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1]
        except OSError:
            return None
        utime, stime = fields.split()[11:13]
        return (int(utime) + int(stime)) / os.sysconf("SC_CLK_TCK")

    def measured(self, run: Callable[[], Result]) -> Result:
        """``run``'s result with this server's CPU time per request."""
        before = self.cpu_seconds()
        result = run()
        after = self.cpu_seconds()
        if before is None or after is None or not result.requests:
            return result
        return replace(result, cpu_ms=(after - before) * 1000 / result.requests)


class Servers:
    """The servers this run started; :meth:`stop_all` ends every one of them."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.running: list[Server] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], port: int) -> Server:
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            # A session of its own: Ctrl-C reaches only the bench, which stops it below.
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        server = Server(name, port, process, log)
        self.running.append(server)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n"
                                   + log.read_text()[-2000:])
            try:
                if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer /healthz within {START_TIMEOUT:g} s")

    def stop_all(self) -> None:
        for server in self.running:
            if server.process.poll() is None:
                os.killpg(server.process.pid, signal.SIGTERM)
        for server in self.running:
            try:
                server.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.process.pid, signal.SIGKILL)
                server.process.wait(timeout=10)
        self.running.clear()


@contextmanager
def servers() -> Iterator[Servers]:
    """Every server started inside is stopped on the way out, whatever the way out
    (SIGTERM is turned into an exit, so it takes this way too)."""
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory(prefix="opsledger-api-bench-") as folder:
        running = Servers(Path(folder))
        try:
            yield running
        finally:
            running.stop_all()
            signal.signal(signal.SIGTERM, previous)


def _clean_env() -> dict[str, str]:
    """This environment without OPSLEDGER_* (no Kafka or MongoDB of the caller's), with
    this checkout first on the path, so the servers run the code that is measured."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPSLEDGER_")}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(CHECKOUT), env.get("PYTHONPATH", "")) if p)
    return env


def _uvicorn(module: str, port: int) -> list[str]:
    return [sys.executable, "-m", "uvicorn", module, "--host", HOST, "--port", str(port),
            "--log-level", "warning", "--no-access-log"]


def start_opsledger(running: Servers, token: str) -> Server:
    port = free_port()
    env = _clean_env()
    env["OPSLEDGER_TOKENS"] = json.dumps(
        {token: {"principal": "user:bench", "roles": ["admin"], "teams": ["*"]}})
    return running.start("opsledger", [
        sys.executable, "-m", "services.cli.main", "serve", "--port", str(port),
        "--data-dir", str(running.folder / "opsledger-data"),
    ], env, port)


def start_naive(running: Servers) -> Server:
    port = free_port()
    env = {**_clean_env(), "NAIVE_DB": str(running.folder / "naive.sqlite")}
    return running.start("naive", _uvicorn("benchmarks.naive_app:app", port), env, port)


def start_bare(running: Servers, document: dict[str, Any]) -> Server:
    port = free_port()
    path = running.folder / "document.json"
    path.write_text(json.dumps(document))
    env = {**_clean_env(), "BARE_DOC": str(path)}
    return running.start("bare", _uvicorn("benchmarks.bare_app:app", port), env, port)


# -- seeding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    team_id: str
    feedback_id: str
    document: dict[str, Any]


def seed(url: str, token: str) -> Seeded:
    """A team, five members and feedback of every kind (customer feedback naming its
    customer, so reads open sealed personal data); one item is the single GET's."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as client:
        def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            answer = client.post(path, json=body)
            answer.raise_for_status()
            return dict(answer.json())

        team = post("/v1/teams", {"name": "Bench team", "mission": "keep checkout up"})["id"]
        members = [post(f"/v1/teams/{team}/members", {
            "name": f"Member {i}", "email": f"member{i}@example.com", "role": "engineer",
        })["id"] for i in range(5)]
        last = {}
        for i in range(SEED_FEEDBACK):
            body: dict[str, Any] = {"kind": "customer", "team_id": team, "score": i % 11,
                                    "text": f"Checkout was slow for me today ({i})",
                                    "channel": "email",
                                    "customer": {"name": f"Customer {i}",
                                                 "email": f"customer{i}@example.com"}}
            if i % 3 == 1:
                body = {"kind": "peer", "team_id": team, "subject_member_id": members[i % 5],
                        "text": f"Great incident command on the payments outage ({i})",
                        "score": 9}
            last = post("/v1/feedback", body)
        one = post("/v1/feedback", {
            "kind": "customer", "team_id": team, "score": 4, "channel": "email",
            "text": "The export page timed out twice this morning",
            "customer": {"name": "Dana Customer", "email": "dana@example.com"}})
        doc = client.get(f"/v1/feedback/{one['id']}",
                         params={"min_position": max(one["position"], last["position"])})
        doc.raise_for_status()
        return Seeded(team, one["id"], doc.json())


# -- measuring -------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    label: str
    ours: Result
    baseline: Result | None
    baseline_label: str
    target: str
    met: bool | None


def _fmt(r: Result | None) -> str:
    if r is None:
        return "-"
    failed = f", {r.failed} FAILED" if r.failed else ""
    cpu = "" if r.cpu_ms is None else f", cpu {r.cpu_ms:.2f} ms/req"
    return f"{r.rate:,.0f}/s, med {r.median_ms:.1f} ms, p99 {r.p99_ms:.1f} ms{cpu}{failed}"


def print_table(rows: list[Row], out: Any = sys.stdout) -> None:
    print(file=out)
    print("| row | OpsLedger | baseline | ratio | target | met |", file=out)
    print("| --- | --- | --- | --- | --- | --- |", file=out)
    for row in rows:
        base = (f"{row.baseline_label}: {_fmt(row.baseline)}" if row.baseline is not None
                else "-")
        ratio = ("-" if row.baseline is None or not row.baseline.rate
                 else f"{row.ours.rate / row.baseline.rate:.2f}x")
        if row.name == "get-500" and row.baseline is not None and row.baseline.p99_ms:
            ratio = f"p99 {row.ours.p99_ms / row.baseline.p99_ms:.2f}x"
        met = "-" if row.met is None else ("yes" if row.met else "NO")
        print(f"| {row.label} ({row.ours.tool}) | {_fmt(row.ours)} | {base} | {ratio} | "
              f"{row.target} | {met} |", file=out)


@dataclass
class Bench:
    duration: float
    connections: int
    rate: float
    load: str  # "wrk" or "python"
    warmup: float = 1.0

    def drive(self, server: Server, request: Request, connections: int) -> Result:
        if self.warmup:
            self._drive(server, request, connections, self.warmup)
        return server.measured(
            lambda: self._drive(server, request, connections, self.duration))

    def _drive(self, server: Server, request: Request, connections: int,
               duration: float) -> Result:
        if self.load == "wrk":
            return loadgen.run_wrk(server.url, request, connections, duration)
        return loadgen.run_python(HOST, server.port, request, connections, duration)

    def at_rate(self, server: Server, request: Request) -> Result:
        if self.warmup:
            loadgen.run_at_rate(HOST, server.port, request, self.rate, self.warmup)
        return server.measured(
            lambda: loadgen.run_at_rate(HOST, server.port, request, self.rate, self.duration))


def run(args: argparse.Namespace) -> list[Row]:
    wanted = set(args.only or ROWS)
    load = args.load
    if load == "auto":
        load = "wrk" if loadgen.wrk_available() else "python"
    bench = Bench(args.duration, args.connections, args.rate, load, args.warmup)
    token = "bench_" + secrets.token_urlsafe(24)
    auth = (("Authorization", f"Bearer {token}"),)
    json_body = (("Content-Type", "application/json"),)
    print(f"load generator: {load}" + (" (fixed rate: asyncio, open loop)"
                                       if "get-500" in wanted else ""), file=sys.stderr)
    rows: list[Row] = []
    with servers() as running:
        ours = start_opsledger(running, token)
        seeded = seed(ours.url, token)
        naive = start_naive(running) if wanted & {"post", "post-1"} else None
        bare = start_bare(running, seeded.document) if wanted & {"get", "get-500"} else None
        print(f"seeded {SEED_FEEDBACK + 1} feedback items; single answer "
              f"{len(json.dumps(seeded.document))} bytes", file=sys.stderr)
        body = json.dumps({"kind": "customer", "team_id": seeded.team_id, "score": 7,
                           "channel": "chat", "text": "The new runbook saved us an hour"})
        give = Request("POST", "/v1/feedback", auth + json_body, body.encode())
        naive_give = Request("POST", "/v1/feedback", json_body, body.encode())
        single = Request("GET", f"/v1/feedback/{seeded.feedback_id}", auth)
        listing = Request("GET", "/v1/feedback?limit=50", auth)
        constant = Request("GET", "/doc")

        def step(name: str, measure: Callable[[], Row]) -> None:
            if name in wanted:
                print(f"measuring {name} ...", file=sys.stderr)
                rows.append(measure())

        n = bench.connections
        step("post", lambda: _versus(
            "post", f"POST /v1/feedback, {n} connections", bench.drive(ours, give, n),
            bench.drive(naive, naive_give, n), "naive",  # type: ignore[arg-type]
            "≥ 2x naive, p99 ≤ 50 ms", lambda o, b: o.rate >= 2 * b.rate and o.p99_ms <= 50))
        step("post-1", lambda: _versus(
            "post-1", "POST /v1/feedback, 1 connection", bench.drive(ours, give, 1),
            bench.drive(naive, naive_give, 1), "naive", "(no target; issue's figure)", None))
        got: dict[str, Result] = {}

        def single_get() -> Result:
            if "get" not in got:
                got["get"] = bench.drive(ours, single, n)
            return got["get"]

        step("get", lambda: _versus(
            "get", f"GET /v1/feedback/{{id}}, {n} connections", single_get(),
            bench.drive(bare, constant, n), "bare route",  # type: ignore[arg-type]
            "≥ 0.5x bare route", lambda o, b: o.rate >= 0.5 * b.rate))
        step("page", lambda: _versus(
            "page", f"GET /v1/feedback?limit=50, {n} connections",
            bench.drive(ours, listing, n), single_get(), "this run's single GET",
            "≥ 1/3 x single GET", lambda o, b: o.rate >= b.rate / 3))
        step("get-500", lambda: _versus(
            "get-500", f"GET /v1/feedback/{{id}} at {bench.rate:g}/s",
            bench.at_rate(ours, single),
            bench.at_rate(bare, constant), "bare route",  # type: ignore[arg-type]
            "p99 ≤ 10 ms", lambda o, b: o.p99_ms <= 10 and o.failed == 0))
    return rows


def _versus(name: str, label: str, ours: Result, baseline: Result | None, baseline_label: str,
            target: str, judge: Callable[[Result, Result], bool] | None) -> Row:
    met = None if judge is None or baseline is None else (judge(ours, baseline)
                                                          and ours.failed == 0)
    return Row(name, label, ours, baseline, baseline_label, target, met)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.api_bench",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        epilog="Load: wrk (2 threads, Lua scripts for bodies and headers) when `wrk` is on "
               "PATH (apt-get install -y wrk), else the asyncio generator of "
               "benchmarks/loadgen.py; the fixed-rate row always uses that generator, "
               "open loop. The table names the generator of every figure.",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    p.add_argument("--connections", type=int, default=32, help="connections of the loaded rows")
    p.add_argument("--rate", type=float, default=500.0, help="requests/s of the get-500 row")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up before each")
    p.add_argument("--only", action="append", choices=ROWS, metavar="ROW",
                   help=f"run only this row (repeatable): {', '.join(ROWS)}")
    p.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                   help="load generator [auto: wrk if installed]")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.load == "wrk" and not loadgen.wrk_available():
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    try:
        rows = run(args)
    except KeyboardInterrupt:
        print("interrupted; every server was stopped", file=sys.stderr)
        return 130
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
