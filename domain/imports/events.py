"""The public wire names of the imports context (one topic: ``opsledger.imports.events``)."""

from __future__ import annotations

from domain.imports.aggregate import ImportRun

CONTEXT = ImportRun.CONTEXT
EVENTS = (ImportRun.ImportRunOpened, ImportRun.ImportRunFinished)
