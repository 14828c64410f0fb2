"""What every OpsLedger process shares: one logging set-up, and a stop event that
SIGTERM and SIGINT set.

The relay and the projector run in the main thread until the event is set, then
finish the batch in hand and return, so ``docker stop`` or Ctrl-C ends them cleanly.
"""

from __future__ import annotations

import logging
import signal
import threading

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)

log = logging.getLogger(__name__)


def configure_logging(level: int = logging.INFO) -> None:
    """Timestamped lines on stderr; kafka-python only from WARNING up (its INFO lines
    are connection chatter)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    logging.getLogger("kafka").setLevel(logging.WARNING)


def stop_on_signals(name: str) -> threading.Event:
    """An event that SIGTERM or SIGINT sets; ``name`` says who stops, in the log.

    Call it from the main thread (Python installs signal handlers only there), and
    only once the process is about to run: from then on those signals no longer
    interrupt it.
    """
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("%s: %s received, finishing the current batch", name,
                 signal.Signals(signum).name)
        # Not stop.set() here: the handler runs in the main thread, which may hold
        # the event's lock at that moment (inside stop.wait()), and set() takes it.
        threading.Thread(target=stop.set, name=f"{name}-stop").start()

    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    return stop
