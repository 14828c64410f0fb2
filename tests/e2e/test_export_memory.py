"""Evidence export streams: its memory does not grow with the size of the trail."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.export_bench import fill, measure_export
from infra.read_store.sqlite import SQLiteReadStore

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_peak_memory_is_the_same_for_10x_more_records(tmp_path: Path, fmt: str) -> None:
    small = SQLiteReadStore(tmp_path / "small.sqlite")
    fill(small, 5_000)
    large = SQLiteReadStore(tmp_path / "large.sqlite")
    fill(large, 50_000)

    small_bytes, small_peak, _ = measure_export(small, fmt)
    large_bytes, large_peak, _ = measure_export(large, fmt)

    assert large_bytes > 9 * small_bytes  # it really exported ten times as much
    print(f"{fmt}: peak heap {small_peak / 2**20:.1f} MiB for 5k, "
          f"{large_peak / 2**20:.1f} MiB for 50k records")
    assert large_peak < 1.5 * small_peak + 1_000_000
    assert large_peak < 16 * 2**20
