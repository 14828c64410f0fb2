"""A child's pipe holds a whole message of about a megabyte (Linux)."""

from __future__ import annotations

import fcntl
import os
import sys

import pytest

from infra.wide_pipe import PIPE_BYTES, wide_pipe


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="F_SETPIPE_SZ is Linux's")
def test_a_wide_pipe_takes_a_megabyte_before_its_writer_waits() -> None:
    read, write = wide_pipe()
    try:
        assert fcntl.fcntl(write, fcntl.F_GETPIPE_SZ) == PIPE_BYTES
        os.set_blocking(write, False)
        assert os.write(write, b"x" * PIPE_BYTES) == PIPE_BYTES  # no reader yet
    finally:
        os.close(read)
        os.close(write)
