"""``python -m services.projector``: ``opsledger projector``, the command compose runs
(the same code, so the kill -9 fault tests exercise what production runs).

Its settings come from the environment (``-h`` lists them). Test only:
``OPSLEDGER_PROJECTOR_CRASH_AFTER_WRITE=N`` makes the process SIGKILL itself right
after its N-th store write, before that batch's offsets are committed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from services.cli.main import run_command


def main(argv: Sequence[str] | None = None) -> int:
    return run_command("projector", argv)


if __name__ == "__main__":
    sys.exit(main())
