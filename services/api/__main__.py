"""``python -m services.api [--host H] [--port P] [--data-dir DIR]``: ``opsledger api``,
the command compose runs: the HTTP API alone (distributed when Kafka and MongoDB are
set, else embedded, as ``opsledger serve``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from services.cli.main import run_command


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("api", argv)


if __name__ == "__main__":
    sys.exit(main())
