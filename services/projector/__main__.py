"""``python -m services.projector``: one projector process, until SIGTERM or SIGINT.

Needs ``OPSLEDGER_KAFKA_BOOTSTRAP`` and ``OPSLEDGER_MONGO_URI`` (exit 2 without);
optional ``OPSLEDGER_MONGO_DB``, ``OPSLEDGER_KAFKA_TOPIC_PREFIX``,
``OPSLEDGER_PROJECTOR_GROUP``, ``OPSLEDGER_PROJECTOR_BATCH``,
``OPSLEDGER_PROJECTOR_SESSION_TIMEOUT_MS`` (10000: a killed projector's partitions move
after this), ``OPSLEDGER_PROJECTOR_HEARTBEAT_INTERVAL_MS`` (2000) and
``OPSLEDGER_PROJECTOR_INSTANCE_ID`` (static membership: a stable id per replica; a
restart with it resumes at once). SIGTERM/SIGINT: the batch in hand is finished and the
process leaves its group at once.

Test only: ``OPSLEDGER_PROJECTOR_CRASH_AFTER_WRITE=N`` makes the process SIGKILL
itself right after its N-th store write, before that batch's offsets are committed
(the crash window the fault tests exercise).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence

from infra.settings import Settings
from services.projector.bootstrap import MissingSettingError, require_distributed, run_projector

CRASH_AFTER_WRITE = "OPSLEDGER_PROJECTOR_CRASH_AFTER_WRITE"


def _crash_hook() -> Callable[[int], None] | None:
    raw = os.environ.get(CRASH_AFTER_WRITE, "").strip()
    if not raw:
        return None
    crash_at = int(raw)

    def after_store_commit(writes: int) -> None:
        if writes >= crash_at:
            logging.getLogger(__name__).warning(
                "%s=%d: killing this process after the store write, before the "
                "offset commit", CRASH_AFTER_WRITE, crash_at)
            os.kill(os.getpid(), signal.SIGKILL)
            os._exit(137)  # pragma: no cover - not reached

    return after_store_commit


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    settings = Settings()
    try:
        require_distributed(settings)
    except MissingSettingError as e:
        print(f"opsledger projector: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        logging.getLogger(__name__).info("signal %d: stopping after this batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    run_projector(settings, stop, after_store_commit=_crash_hook())
    return 0


if __name__ == "__main__":
    sys.exit(main())
