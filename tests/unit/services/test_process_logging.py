"""Every OpsLedger process's log: kafka-python's errors on one line, ours untouched."""

from __future__ import annotations

import io
import logging

from services.process import LOG_FORMAT, KafkaOnOneLine


def logged(name: str) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(KafkaOnOneLine())
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise BrokenPipeError(32, "Broken pipe")
        except BrokenPipeError as e:
            logger.exception("Error sending request data: %s", e)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return out.getvalue()


def test_a_kafka_python_error_with_its_traceback_is_logged_as_one_line() -> None:
    text = logged("kafka.net.transport")

    assert "Traceback" not in text
    assert text.count("\n") == 1
    assert "ERROR kafka.net.transport Error sending request data: [Errno 32] Broken pipe" in text


def test_our_own_errors_keep_their_traceback() -> None:
    text = logged("infra.kafka.relay")

    assert "Traceback (most recent call last)" in text
    assert "BrokenPipeError" in text
