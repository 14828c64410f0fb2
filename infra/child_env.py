"""The environment of a child process started as ``python -m <one of our modules>``."""

from __future__ import annotations

import os
from pathlib import Path


def child_env() -> dict[str, str]:
    """This environment, with this source tree importable (installed or not)."""
    root = str(Path(__file__).resolve().parents[1])
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}
