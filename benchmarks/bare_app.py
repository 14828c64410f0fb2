"""The bare route of ``benchmarks.api_bench``: FastAPI answering a constant JSON document
(the bench passes OpsLedger's own answer for one feedback item, so both are the same
size), with no auth, no store and no middleware. ``async def``, FastAPI's default
encoding of a returned dict: the fastest plain FastAPI route, so the stricter baseline.

    BARE_DOC=/tmp/doc.json python -m uvicorn benchmarks.bare_app:app --port 8002
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

_path = os.environ.get("BARE_DOC")
DOCUMENT: dict[str, Any] = json.loads(Path(_path).read_text()) if _path else {"id": "x"}
app = FastAPI(title="bare route")


@app.get("/doc")
async def doc() -> dict[str, Any]:
    return DOCUMENT


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
