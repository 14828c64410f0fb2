"""Fixtures the infra unit tests share: the embedded default's settings on a fresh
folder, and its ledger (SQLite event store, key store), closed after the test. A test
file that needs another ledger (in memory, or one per module) defines its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ledger import Ledger
from infra.event_store import close_ledger, open_ledger
from infra.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def ledger(settings: Settings) -> Iterator[Ledger]:
    made = open_ledger(settings)
    yield made
    close_ledger(made)
