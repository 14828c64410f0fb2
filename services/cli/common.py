"""What every command shares: settings from OPSLEDGER_* plus command-line overrides."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

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
    try:
        return Settings(**values)  # type: ignore[arg-type]
    except ValidationError as e:
        raise typer.BadParameter(settings_error(e), param_hint="settings") from None


def settings_error(error: ValidationError) -> str:
    """Each refused ``OPSLEDGER_*`` setting and why, for people (no traceback)."""
    return "; ".join(
        f"OPSLEDGER_{'_'.join(str(p) for p in e['loc']).upper()}={e.get('input')!r}: {e['msg']}"
        for e in error.errors())


def resolve_token(token: str | None, data_dir: Path | None) -> str:
    """--token, else OPSLEDGER_TOKEN, else the admin token of a served data folder."""
    from infra.auth import admin_token_in

    token = token or os.environ.get("OPSLEDGER_TOKEN")
    if not token:
        settings = load_settings(data_dir)
        token = admin_token_in(settings.data_dir / "tokens.json")
    if not token:
        typer.echo("no token: pass --token, set OPSLEDGER_TOKEN, or --data-dir of a served "
                   "OpsLedger", err=True)
        raise typer.Exit(2)
    return token
