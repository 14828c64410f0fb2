"""A pipe to or from a child process of ours, with room for a whole message."""

from __future__ import annotations

import contextlib
import fcntl
import os

PIPE_BYTES = 1 << 20
"""Linux's default ceiling for an unprivileged process (``/proc/sys/fs/pipe-max-size``)."""


def wide_pipe() -> tuple[int, int]:
    """``os.pipe()`` holding :data:`PIPE_BYTES` rather than 64 kB (Linux; elsewhere, or
    when capped lower, as it comes). A message of about a megabyte is then written in
    one go while the other side is busy, instead of a few kB at each of its reads: a
    wait and two context switches every 64 kB, on a machine of two cores."""
    read, write = os.pipe()
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(write, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    return read, write
