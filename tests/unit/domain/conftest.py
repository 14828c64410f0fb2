"""Fixtures for the domain specifications: a ledger in memory, nothing else."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import domain.catalog  # noqa: F401  (registers every event class)
from domain.ledger import Ledger


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    """The one ledger Application over eventsourcing's in-memory (POPO) recorder."""
    app = Ledger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    yield app
    app.close()
