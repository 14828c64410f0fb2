"""Raw MongoDB commands, read the same way on MongoDB and FerretDB v1: which writes were
refused as duplicate keys (any other failure raises), and runs of documents that fit
one command.

Commands are sent raw (``db.command("insert"/"update", ...)``) because FerretDB v1
answers ``update`` batches without ``n``/``nModified``, which pymongo's ``bulk_write``
cannot read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument
from pymongo.errors import WriteConcernError, WriteError

DUPLICATE_KEY = 11000
MAX_BYTES = 8 * 1024 * 1024  # well below the 16 MiB limit of one command document


def duplicates(response: Mapping[str, Any]) -> list[int]:
    """Indexes of the writes refused as duplicate keys; raises on any other failure."""
    found: list[int] = []
    for error in response.get("writeErrors", ()):
        if error.get("code") != DUPLICATE_KEY:
            raise WriteError(error.get("errmsg", "write failed"), error.get("code"), error)
        found.append(int(error["index"]))
    concern = response.get("writeConcernError")
    if concern:
        raise WriteConcernError(concern.get("errmsg", "write concern failed"),
                                concern.get("code"), concern)
    return found


def batches(items: Iterable[Mapping[str, Any]], max_items: int) -> Iterator[list[RawBSONDocument]]:
    """Runs of items that fit in one command document, each item encoded once.

    The items come back as :class:`~bson.raw_bson.RawBSONDocument`: measuring an
    item's size is encoding it, and pymongo copies a raw document into the command
    as it is rather than encoding it a second time.
    """
    batch: list[RawBSONDocument] = []
    size = 0
    for item in items:
        raw = RawBSONDocument(bson.encode(item))
        item_size = len(raw.raw)
        if batch and (len(batch) >= max_items or size + item_size > MAX_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(raw)
        size += item_size
    if batch:
        yield batch
