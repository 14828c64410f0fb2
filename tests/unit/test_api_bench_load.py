"""The API benchmark's load generators, as specifications: wrk's report read right, and
the asyncio generator counting what a local server answered, back to back or at a rate."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest

from benchmarks.loadgen import Request, parse_wrk, run_at_rate, run_python

WRK_REPORT = """Running 5s test @ http://127.0.0.1:40000/v1/feedback/1
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    31.2ms   20.1ms 400.3ms   90.00%
    Req/Sec   500.12    100.00     1.00k    70.00%
  Latency Distribution
     50%  850.00us
     75%   40.00ms
     90%   60.00ms
     99%    1.20s
  5000 requests in 5.01s, 2.60MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:    998.00
"""


def test_wrks_report_gives_requests_percentiles_in_ms_and_every_failure() -> None:
    result = parse_wrk(WRK_REPORT, 5.0)

    assert result.requests == 5000 and result.rate == 1000
    assert result.median_ms == pytest.approx(0.85)
    assert result.p99_ms == pytest.approx(1200.0)
    assert result.failed == 7 + 2 + 1


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 for GET /ok, 500 for anything else, on a kept-alive connection."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            status = b"200 OK" if head.startswith(b"GET /ok ") else b"500 Oops"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\n\r\n{}")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


@pytest.fixture
def port() -> Iterator[int]:
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(asyncio.start_server(_answer, "127.0.0.1", 0))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield server.sockets[0].getsockname()[1]

    async def stop() -> None:
        server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


def test_back_to_back_counts_answers_and_failures_apart(port: int) -> None:
    good = run_python("127.0.0.1", port, Request("GET", "/ok"), connections=2, duration=0.3)
    bad = run_python("127.0.0.1", port, Request("GET", "/no"), connections=2, duration=0.3)

    assert good.requests > 0 and good.failed == 0 and good.p99_ms >= good.median_ms > 0
    assert bad.requests == 0 and bad.failed > 0


def test_a_fixed_rate_sends_rate_times_duration_requests(port: int) -> None:
    result = run_at_rate("127.0.0.1", port, Request("GET", "/ok"), rate=200, duration=0.5,
                         connections=4)

    assert result.requests == 100 and result.failed == 0
    assert result.seconds == pytest.approx(0.5, abs=0.3)
