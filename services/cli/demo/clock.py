"""The demo's business clock: five weeks of days ending at an *anchor* instant.

Every time the demo sends (``occurred_at``, deadlines, due and effective dates) is a
function of the anchor, so a run with the same seed and anchor sends byte-identical
bodies (an idempotency key reused with another body is refused). The anchor is the
minute the first run started; a later run recovers it from the first team's
``formed_at``, which is exactly :data:`DAYS` days before it (see
:func:`services.cli.demo.run_demo`).

Day 0 is the evening (or whatever hour the demo started) the organisation was set
up; days 1..34 are the month's working days and nights, at fixed times of day; day 35
is today, where only times counted back from the anchor are used (so nothing lies
in the future, whatever the hour).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

DAYS = 35
"""Five weeks: the organisation is formed this many days before the anchor."""


def anchor_now() -> datetime:
    """This minute, in UTC: the anchor of a first run."""
    return datetime.now(UTC).replace(second=0, microsecond=0)


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, seconds precision (what the demo sends)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class Clock:
    anchor: datetime

    @property
    def formed(self) -> datetime:
        """When the organisation was set up: :data:`DAYS` days before the anchor."""
        return self.anchor - timedelta(days=DAYS)

    def midnight(self, day: int) -> datetime:
        """The start (UTC) of day ``day`` of the month; day :data:`DAYS` is today."""
        today = datetime.combine(self.anchor.date(), datetime.min.time(), tzinfo=UTC)
        return today - timedelta(days=DAYS - day)

    def at(self, day: int, hours: float) -> datetime:
        """Day ``day`` at ``hours`` after its midnight (9.5 is 09:30)."""
        return self.midnight(day) + timedelta(minutes=round(hours * 60))

    def ago(self, minutes: float) -> datetime:
        """``minutes`` before the anchor (today's times)."""
        return self.anchor - timedelta(minutes=minutes)

    def date_of(self, day: int) -> date:
        return self.midnight(day).date()

    def day_iso(self, day: int) -> str:
        """The calendar date of day ``day`` (may lie past today: deadlines, due dates)."""
        return self.date_of(day).isoformat()

    def day_of(self, moment: datetime) -> int:
        """The month's day number of ``moment``."""
        return (moment.date() - self.date_of(0)).days
