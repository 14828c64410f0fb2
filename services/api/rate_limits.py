"""Rate limits on authentication, with the ``limits`` library (moving windows, in memory).

- failed authentications per client address: beyond the limit, every request from
  that address is refused (429) before its token is even looked at, until the window
  frees a slot;
- requests per token (off by default).

Counters live in each API process's memory: with several API processes each counts
on its own, so the limit a client meets is at most the setting times the processes.
No FastAPI here: the dependency that authenticates turns a wait into a 429.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter


class _Limit:
    def __init__(self, limiter: MovingWindowRateLimiter, amount: int, seconds: int,
                 namespace: str) -> None:
        self.limiter = limiter
        self.item: RateLimitItem = RateLimitItemPerSecond(amount, seconds, namespace=namespace)

    def wait(self, key: str) -> int:
        """Whole seconds until ``key`` may be counted again (at least 1)."""
        reset_time, _ = self.limiter.get_window_stats(self.item, key)
        return max(1, math.ceil(reset_time - time.time()))


class RateLimits:
    def __init__(self, *, auth_failures: int, auth_failure_window: int, token_requests: int,
                 token_request_window: int) -> None:
        limiter = MovingWindowRateLimiter(MemoryStorage())
        self._failures = (
            _Limit(limiter, auth_failures, auth_failure_window, "auth-failures")
            if auth_failures > 0 else None
        )
        self._requests = (
            _Limit(limiter, token_requests, token_request_window, "token-requests")
            if token_requests > 0 else None
        )

    def address_blocked_for(self, address: str) -> int | None:
        """Seconds ``address`` must wait after too many failed authentications, else None."""
        limit = self._failures
        if limit is None or limit.limiter.test(limit.item, address):
            return None
        return limit.wait(address)

    def failed(self, address: str) -> None:
        """Count a failed authentication from ``address``."""
        if self._failures is not None:
            self._failures.limiter.hit(self._failures.item, address)

    def token_request(self, token_key: str) -> int | None:
        """Count a request by the token ``token_key``; seconds to wait if over its limit."""
        limit = self._requests
        if limit is None or limit.limiter.hit(limit.item, token_key):
            return None
        return limit.wait(token_key)
