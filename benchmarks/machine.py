"""How quick this machine is at plain Python, printed beside the figures.

The targets are absolute (events/s), and the machines the benchmarks run on differ:
a figure from a session on a machine half as quick is not a regression. The same
loop, timed the same way, says which kind of machine a table came from.
"""

from __future__ import annotations

import time

LOOP_STEPS = 10_000_000
QUICK_MACHINE_SECONDS = 0.5
"""About what the loop takes on a quick 2.6 GHz-class core (CPython 3.11)."""


def python_loop_seconds(steps: int = LOOP_STEPS, tries: int = 3) -> float:
    """The best of ``tries`` timings of a loop adding ``steps`` integers."""
    best = float("inf")
    for _ in range(tries):
        started = time.perf_counter()
        total = 0
        for i in range(steps):
            total += i
        best = min(best, time.perf_counter() - started)
    return best
