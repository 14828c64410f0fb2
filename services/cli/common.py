"""What every command shares: settings from OPSLEDGER_* plus command-line overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infra.settings import Settings

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="event store folder [env: OPSLEDGER_DATA_DIR]",
                 show_default=False),
]


def load_settings(data_dir: Path | None = None, **overrides: object) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**values)  # type: ignore[arg-type]
