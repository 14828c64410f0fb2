"""``opsledger import`` as a user runs it, against a served OpsLedger: exit status 0
when everything was imported or already there, 1 with a clean message when something
was refused, 2 for bad usage; never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import pytest

from benchmarks.pagerduty_sample import pagerduty_export, roster_lines
from tests.e2e.server import TOKEN, ServerProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("import-cli") / "data").start()
    try:
        yield process
    finally:
        process.stop()


def opsledger_import(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "import", *args, "--url", server.url,
         "--token", TOKEN], capture_output=True, text=True, timeout=120, check=False)


def test_exit_status_says_whether_everything_came_in(server: ServerProcess,
                                                     tmp_path: Path) -> None:
    roster = tmp_path / "roster.jsonl"
    roster.write_text("".join(json.dumps(line) + "\n" for line in roster_lines()))
    sample = pagerduty_export(5, seed=3)
    sample["incidents"].append({"title": "no id"})
    export = tmp_path / "pagerduty.json"
    export.write_text(json.dumps(sample))

    formed = opsledger_import(server, str(roster), "--format", "opsledger")
    refused = opsledger_import(server, str(export), "--format", "pagerduty")
    again = opsledger_import(server, str(roster), "--format", "opsledger")

    assert formed.returncode == 0, formed.stdout + formed.stderr
    assert "imported" in formed.stdout and "refused       │     0" in formed.stdout
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "incident #5 of the file: no id" in refused.stdout
    assert "1 refused (listed above)" in refused.stderr
    assert again.returncode == 0 and "already there │     6" in again.stdout
    for run in (formed, refused, again):
        assert "Traceback" not in run.stdout + run.stderr


EMPTY_EXPORT = '{"incidents": []}'


@pytest.mark.parametrize(("args", "message"), [
    (["missing.json", "--format", "pagerduty"], "does not exist"),
    (["{file}", "--format", "csv"], "'csv' is not one of"),
    (["{file}", "--format", "pagerduty"], "not a PagerDuty export"),
    (["{export}", "--format", "pagerduty", "--team-id", str(uuid4())],
     "no such OpsLedger team"),
    (["{export}", "--format", "opsledger", "--team-id", str(uuid4())],
     "--team-id is for --format pagerduty"),
])
def test_bad_usage_is_exit_status_2_with_a_clean_message(
        server: ServerProcess, tmp_path: Path, args: list[str], message: str) -> None:
    path, export = tmp_path / "notes.json", tmp_path / "export.json"
    path.write_text('{"items": []}')
    export.write_text(EMPTY_EXPORT)
    args = [a.replace("{file}", str(path)).replace("{export}", str(export)) for a in args]

    result = opsledger_import(server, *args)

    assert result.returncode == 2, result.stdout + result.stderr
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
