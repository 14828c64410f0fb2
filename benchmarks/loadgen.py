"""The load generators of ``benchmarks.api_bench``: ``wrk`` when it is installed, and a
small asyncio HTTP/1.1 client of our own as the fallback and for fixed-rate runs (wrk
cannot hold a rate, and wrk2 is not in Debian).

Both keep connections alive and send the same request over and over; both report
requests/s, the median and the 99th percentile of the latency, and the answers that
were not 2xx (a run with any is flagged by the bench, never averaged in silently).

The fixed-rate mode is open-loop: request *i* is due at ``start + i / rate``, and its
latency is measured from when it was due, not from when a free connection sent it, so a
stalled server shows in the figure instead of slowing the generator down
("coordinated omission").
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import median

REQUEST_TIMEOUT = 10.0  # seconds: a request that takes longer counts as an error


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def raw(self, host: str, port: int) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.body or self.method == "POST":
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass(frozen=True)
class Result:
    requests: int
    seconds: float
    median_ms: float
    p99_ms: float
    failed: int  # not 2xx, timed out or broken connections
    tool: str
    cpu_ms: float | None = None
    """The server's CPU time per request (user + system), when the bench could read it:
    steadier than requests/s on a machine shared with other work."""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


# -- wrk -------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if m is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def _lua(request: Request) -> str:
    """wrk's request, as a script: method, headers and body (a long bracket, so the
    JSON needs no escaping)."""
    lines = [f'wrk.method = "{request.method}"']
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in request.headers]
    if request.body:
        lines.append(f"wrk.body = [==[{request.body.decode()}]==]")
    return "\n".join(lines) + "\n"


def parse_wrk(output: str, duration: float) -> Result:
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE))
    failed = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if non_2xx:
        failed += int(non_2xx.group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    if errors:
        failed += sum(int(n) for n in errors.groups())
    return Result(requests, duration, _ms(percentiles["50"]), _ms(percentiles["99"]),
                  failed, "wrk")


def run_wrk(url: str, request: Request, connections: int, duration: float) -> Result:
    """``wrk`` with 2 threads (1 for a single connection), ``--latency``."""
    threads = min(2, connections)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(request))
    try:
        out = subprocess.run(
            ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s",
             "--timeout", f"{REQUEST_TIMEOUT:g}s", "--latency", "-s", script.name,
             url + request.path],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        ).stdout
    finally:
        Path(script.name).unlink(missing_ok=True)
    return parse_wrk(out, duration)


# -- the asyncio generator -------------------------------------------------------------


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    raw: bytes) -> int:
    """One request on a kept-alive connection; its status."""
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    if length is None:
        raise ConnectionError("answer without Content-Length")
    await reader.readexactly(int(length.group(1)))
    return status


class _Tally:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.failed = 0

    def result(self, seconds: float, tool: str) -> Result:
        lat = sorted(self.latencies)
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0
        return Result(len(lat), seconds, (median(lat) if lat else 0.0) * 1000, p99 * 1000,
                      self.failed, tool)


async def _worker(host: str, port: int, raw: bytes, tally: _Tally,
                  next_due: asyncio.Queue[float | None], closed_until: float | None) -> None:
    """Sends requests on one connection: back to back until ``closed_until``, else each
    when it is due (from ``next_due``; None ends the worker)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            if closed_until is None:
                due = await next_due.get()
                if due is None:
                    return
            else:
                due = time.perf_counter()
                if due >= closed_until:
                    return
            try:
                status = await asyncio.wait_for(_exchange(reader, writer, raw), REQUEST_TIMEOUT)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                tally.failed += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            if 200 <= status < 300:
                tally.latencies.append(time.perf_counter() - due)
            else:
                tally.failed += 1
    finally:
        writer.close()


async def _closed(host: str, port: int, request: Request, connections: int,
                  duration: float) -> Result:
    tally = _Tally()
    raw = request.raw(host, port)
    started = time.perf_counter()
    queue: asyncio.Queue[float | None] = asyncio.Queue()
    await asyncio.gather(*(_worker(host, port, raw, tally, queue, started + duration)
                           for _ in range(connections)))
    return tally.result(time.perf_counter() - started, "asyncio")


async def _open(host: str, port: int, request: Request, rate: float, duration: float,
                connections: int) -> Result:
    tally = _Tally()
    raw = request.raw(host, port)
    due: asyncio.Queue[float | None] = asyncio.Queue()
    workers = [asyncio.create_task(_worker(host, port, raw, tally, due, None))
               for _ in range(connections)]
    started = time.perf_counter()
    for i in range(int(rate * duration)):  # bounded: rate x duration requests in all
        at = started + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait(at)
    for _ in workers:
        due.put_nowait(None)
    await asyncio.gather(*workers)
    return tally.result(time.perf_counter() - started, f"asyncio, {rate:g}/s")


def run_python(host: str, port: int, request: Request, connections: int,
               duration: float) -> Result:
    """Back to back on ``connections`` kept-alive connections, like wrk."""
    return asyncio.run(_closed(host, port, request, connections, duration))


def run_at_rate(host: str, port: int, request: Request, rate: float, duration: float,
                connections: int = 32) -> Result:
    """``rate`` requests/s, open loop, over up to ``connections`` connections."""
    return asyncio.run(_open(host, port, request, rate, duration, connections))
