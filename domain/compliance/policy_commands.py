"""What can be asked of a control's policy: imperative, checked by the aggregate."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SetControlThresholds:
    """Add a version of ``control``'s policy: these thresholds from ``effective_from`` on."""

    control: str
    thresholds: dict[str, Any] = field(hash=False)
    effective_from: datetime
    reason: str
