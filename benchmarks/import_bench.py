"""How long ``opsledger import --format pagerduty`` takes for a made-up export of N
incidents, against a served OpsLedger (a real ``opsledger serve`` on 127.0.0.1, a
fresh data folder).

    python -m benchmarks.import_bench --incidents 200

1. forms the sample's team and members with ``opsledger import --format opsledger``;
2. imports the PagerDuty export (:mod:`benchmarks.pagerduty_sample`) and prints the
   importer's own summary;
3. imports it again: every command is answered from its idempotency record and
   nothing is appended. That is the baseline in the same run: the cost of the HTTP
   round trips alone, without recording anything.

Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from benchmarks.pagerduty_sample import pagerduty_export, roster_lines
from services.cli.importers import ImportReport, run_import

TOKEN = "bench-admin-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OPSLEDGER_TOKENS": json.dumps(
        {TOKEN: {"principal": "user:admin", "roles": ["admin"], "teams": ["*"]}})}
    for name in ("OPSLEDGER_KAFKA_BOOTSTRAP", "OPSLEDGER_MONGO_URI"):
        env.pop(name, None)  # the embedded default
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port),
         "--data-dir", str(data_dir)], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    for _ in range(300):  # 30 s at most
        if process.poll() is not None:
            raise SystemExit(f"serve exited early:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.terminate()
    raise SystemExit(f"serve did not start:\n{log.read_text()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_bench",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        roster, export = folder / "roster.jsonl", folder / "pagerduty.json"
        roster.write_text("".join(json.dumps(line) + "\n" for line in roster_lines()))
        sample = pagerduty_export(args.incidents, args.seed)
        export.write_text(json.dumps(sample))
        entries = sum(len(i["log_entries"]) for i in sample["incidents"])
        console.print(f"sample: {args.incidents} incidents, {entries} log entries, "
                      f"{export.stat().st_size / 1e6:.1f} MB")
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = _serve(folder / "data", port, folder / "serve.log")
        try:
            run_import(roster, "opsledger", url, TOKEN, console=console)
            first = run_import(export, "pagerduty", url, TOKEN, console=console)
            again = run_import(export, "pagerduty", url, TOKEN, console=console)
        finally:
            server.terminate()
            server.wait(timeout=15)
    _figures(console, args.incidents, first, again)
    return 0


def _figures(console: Console, incidents: int, first: ImportReport,
             again: ImportReport) -> None:
    table = Table(title=f"opsledger import --format pagerduty, {incidents} incidents")
    for column in ("run", "commands", "requests", "seconds", "requests/s", "incidents/s"):
        table.add_column(column, justify="left" if column == "run" else "right")
    for name, report in (("import (records all)", first),
                         ("re-run (baseline: appends nothing)", again)):
        seconds = max(report.elapsed_seconds, 1e-9)
        table.add_row(name, str(report.commands.read), str(report.requests), f"{seconds:.2f}",
                      f"{report.requests / seconds:.0f}", f"{incidents / seconds:.1f}")
    console.print(table)


if __name__ == "__main__":
    raise SystemExit(main())
