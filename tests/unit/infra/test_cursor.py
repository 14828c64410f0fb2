"""Cursors: only what a store mints decodes; anything else is a BadCursorError (HTTP 400)."""

from __future__ import annotations

import base64

import pytest

from infra.read_store.port import BadCursorError, decode_cursor, encode_cursor


def forged(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("value", [
    None, "2026-03-01T09:00:00.000000Z", "Platform", 0, 42, -(2**63), 2**63 - 1, 1.5,
])
def test_every_order_value_a_store_mints_decodes_back(value: object) -> None:
    assert decode_cursor(encode_cursor(value, "doc-1")) == (value, "doc-1")


@pytest.mark.parametrize("raw", [
    '[[1], "x"]',                       # a list as the order value
    '[{"a": 1}, "x"]',                  # an object
    f'[{2**63}, "x"]',                  # past a signed 64-bit integer
    f'[{-(2**63) - 1}, "x"]',
    f'[{10**30}, "x"]',
    '[1e999, "x"]',                     # infinity
    '[-1e999, "x"]',
    '[NaN, "x"]',
    '[Infinity, "x"]',
    '[true, "x"]',                      # a boolean is never minted
    '{"value": 1, "id": "x"}',          # two keys unpack like a pair: still not a cursor
    '["a", "b", "c"]',
    '[1, 2]',                           # the id must be text
    '[1, null]',
    "[" * 100_000 + "]" * 100_000,      # deep nesting
])
def test_a_forged_cursor_is_refused(raw: str) -> None:
    with pytest.raises(BadCursorError):
        decode_cursor(forged(raw))


def test_an_integer_literal_too_long_to_parse_is_refused() -> None:
    with pytest.raises(BadCursorError):
        decode_cursor(forged("[" + "9" * 5000 + ', "x"]'))
