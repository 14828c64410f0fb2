"""Bounded waiting for tests: ``wait_until`` a condition holds, ``stays_true`` while
time passes, instead of bare sleeps that guess how long something takes.

Both poll, backing off from 20 ms up to ``interval``, so a quick condition is seen
at once and a slow one (a Kafka admin call) is not asked too often.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

FIRST_POLL = 0.02


def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.5) -> float | None:
    """Seconds until ``condition()`` held, or ``None`` if it did not within ``timeout``."""
    start = time.monotonic()
    delay = min(FIRST_POLL, interval)
    while not condition():
        if time.monotonic() - start > timeout:
            return None
        time.sleep(delay)
        delay = min(delay * 2, interval)
    return time.monotonic() - start


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               interval: float = 0.5) -> float:
    """Wait until ``condition()`` holds; the seconds it took. Fails the test, naming
    ``what``, after ``timeout`` seconds."""
    took = poll(condition, timeout, interval)
    if took is None:
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
    return took


def stays_true(condition: Callable[[], bool], seconds: float, what: str,
               interval: float = 0.5, detail: Callable[[], str] | None = None) -> None:
    """Check that ``condition()`` holds throughout the next ``seconds``; fails the test,
    naming ``what`` (and ``detail()``, if given), as soon as it does not."""
    start = time.monotonic()
    delay = min(FIRST_POLL, interval)
    while True:
        if not condition():
            took = time.monotonic() - start
            more = f"\n{detail()}" if detail is not None else ""
            pytest.fail(f"{what}: no longer true after {took:.1f}s of {seconds:.0f}s{more}")
        left = seconds - (time.monotonic() - start)
        if left <= 0:
            return
        time.sleep(min(delay, left))
        delay = min(delay * 2, interval)
