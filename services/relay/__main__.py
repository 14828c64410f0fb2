"""``python -m services.relay [--data-dir DIR]``: run the outbox relay until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from infra.settings import Settings
from services.relay.bootstrap import RelayConfigError, run_relay

log = logging.getLogger("services.relay")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m services.relay",
        description="Publish the event store's events to Kafka, exactly once, in order.",
    )
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="event store folder [env: OPSLEDGER_DATA_DIR; default: data]")
    args = parser.parse_args(argv)

    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    settings = Settings(**overrides)
    if not settings.kafka_bootstrap:
        print("error: the relay needs OPSLEDGER_KAFKA_BOOTSTRAP (host:port of a Kafka broker)",
              file=sys.stderr)
        return 2

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)

    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("relay: %s received, finishing the current batch", signal.Signals(signum).name)
        # Not stop.set() here: the handler runs in the main thread, which may hold
        # the event's lock at that moment.
        threading.Thread(target=stop.set, name="relay-stop").start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run_relay(settings, stop)
    except RelayConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
