"""The retention settings, as specifications: unset (or empty) keeps the data; a period
is a positive whole number of days; anything else stops the command line with a message
that names the variable, never a traceback."""

from __future__ import annotations

import pytest
import typer
from pydantic import ValidationError

from domain.privacy.retention import RetentionPeriods
from infra.settings import Settings
from services.cli.common import load_settings


def test_unset_or_empty_periods_keep_every_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPSLEDGER_RETENTION_CUSTOMER_DAYS", raising=False)
    monkeypatch.setenv("OPSLEDGER_RETENTION_MEMBER_DAYS", " ")
    assert Settings().retention_periods() == RetentionPeriods(None, None)


def test_periods_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSLEDGER_RETENTION_CUSTOMER_DAYS", "365")
    monkeypatch.setenv("OPSLEDGER_RETENTION_MEMBER_DAYS", "30")
    assert Settings().retention_periods() == RetentionPeriods(customer_days=365, member_days=30)


@pytest.mark.parametrize("value", ["0", "-5", "1.5", "a year"])
def test_a_period_that_is_not_a_positive_whole_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str,
) -> None:
    monkeypatch.setenv("OPSLEDGER_RETENTION_CUSTOMER_DAYS", value)
    with pytest.raises(ValidationError):
        Settings()
    with pytest.raises(typer.BadParameter) as refused:
        load_settings()
    assert "OPSLEDGER_RETENTION_CUSTOMER_DAYS" in str(refused.value)
    assert repr(value) in str(refused.value)
