"""``services.api.queries.in_thread``: how an async command route runs its blocking
command, off the event loop, with the command's answer or error."""

from __future__ import annotations

import asyncio
import threading

import pytest

from services.api.queries import in_thread


def test_the_call_runs_off_the_event_loop_which_keeps_serving() -> None:
    release = threading.Event()

    def blocking(x: int) -> tuple[int, str]:
        assert release.wait(5)
        return x * 2, threading.current_thread().name

    async def main() -> tuple[tuple[int, str], bool]:
        pending = asyncio.ensure_future(in_thread(blocking, 21))
        await asyncio.sleep(0.05)  # the loop runs on while the call blocks
        served = not pending.done()
        release.set()
        return await pending, served

    (value, thread), served = asyncio.run(main())
    assert (value, served) == (42, True)
    assert thread.startswith("command") and thread != threading.main_thread().name


def test_the_call_s_error_is_raised_to_the_route() -> None:
    def failing() -> None:
        raise LookupError("no such incident")

    with pytest.raises(LookupError, match="no such incident"):
        asyncio.run(in_thread(failing))
