"""The cyclic garbage collector around folds: paused while they run, and what a large
fold leaves behind kept out of its young passes.

A fold makes many small containers and no reference cycles (documents are trees). With
the collector running, it would stop every few hundred of them to walk the young ones;
paused, it walks everything the fold left alive once the fold is done, and again when
those survivors are promoted: a quarter of a large fold's time when something (a cache,
an in-memory store) keeps the documents (issue 15). Those passes can find nothing in
a fold's own documents, so after a large fold (many containers made while paused)
everything alive is frozen (:func:`gc.freeze`) instead: the young passes never see it.

A frozen object dropped later is freed at once as ever (reference counting); only a
reference cycle alive at that moment waits, for the next full collection, which comes
no more often than the paused collector made one (its oldest generation was collected
once per ``threshold1 * threshold2`` pauses at most, 100 by default, and only once the
heap had grown by a quarter): then everything is unfrozen, collected in full and frozen
again.

Small folds (an API command's few events) leave the collector as it was: they make too
few containers for it to matter, and the process's other objects keep their usual
collection. A caller that froze objects itself (before forking) should know that a
full collection here unfreezes them.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

LARGE = 10_000
"""Containers a paused fold must have left alive for what is alive to be frozen."""

_lock = threading.Lock()
_since_full = {"folds": 0, "frozen": 0, "alive": 0}
"""Since the last full collection made here: large folds settled, containers they froze
(net of those freed meanwhile, so an estimate); and tracked objects alive after it."""


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and back on after it, if it was).

    A caller that does more fold-like work around a fold (routing a batch ahead, to
    prefetch) pauses it over all of it: only the outermost pause acts, once per batch.
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            settle()
            gc.enable()


def settle() -> None:
    """After a paused fold: if it was large, freeze what is alive, and collect in full
    when that is due."""
    made = gc.get_count()[0]  # containers made (net of those freed) since the last pass
    if made < LARGE:
        return
    with _lock:
        gc.freeze()
        since = _since_full
        since["folds"] += 1
        since["frozen"] += made
        _, promotions, full = gc.get_threshold()
        if since["folds"] < max(1, promotions * full) or 4 * since["frozen"] < since["alive"]:
            return
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        since.update(folds=0, frozen=0, alive=gc.get_freeze_count())
