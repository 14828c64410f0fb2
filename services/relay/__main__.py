"""``python -m services.relay [--data-dir DIR]``: ``opsledger relay``, the command compose
runs (the same code, so the kill -9 fault tests exercise what production runs)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from services.cli.main import run_command


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("relay", argv)


if __name__ == "__main__":
    sys.exit(main())
