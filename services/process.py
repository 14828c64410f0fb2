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


class KafkaOnOneLine(logging.Filter):
    """kafka-python logs a connection lost mid-send with its traceback
    (``log.exception``), whose message already names the error: an operator reading
    the relay's log during a broker restart gets it as one line, no stack trace."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.partition(".")[0] == "kafka":
            record.exc_info = None
            record.exc_text = None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    """Timestamped lines on stderr; kafka-python only from WARNING up (its INFO lines
    are connection chatter) and without tracebacks (:class:`KafkaOnOneLine`)."""
    logging.basicConfig(level=level, format=LOG_FORMAT)
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # On the handlers: a logger's own filters do not see its children's records.
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, KafkaOnOneLine) for f in handler.filters):
            handler.addFilter(KafkaOnOneLine())


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
