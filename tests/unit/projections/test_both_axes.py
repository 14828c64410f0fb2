"""As-of on both axes: how things stood at a business time E, as the ledger knew them
at a recording time T.

The auditor's story: a SEV1 incident opened at 14:00 (entered then), acknowledged on a
phone at 14:05 and entered at 14:30.
"""

from __future__ import annotations

from projections import compliance_history
from projections.fold import Document
from tests.unit.projections.builders import INCIDENT, TEAM, a_team, ev, project


def incident_history() -> list[Document]:
    store = project(
        *a_team(),
        ev("incidents", "IncidentOpened", INCIDENT, 1, 10, "2026-11-23T14:00:00Z",
           team_id=TEAM, severity="SEV1", service="payments-api", summary="5xx spike"),
        ev("incidents", "IncidentAcknowledged", INCIDENT, 2, 11, "2026-11-23T14:05:00Z",
           recorded_at="2026-11-23T14:30:00Z"),
        ev("incidents", "IncidentResolved", INCIDENT, 3, 12, "2026-11-23T15:00:00Z",
           summary="rolled back", root_cause="bad deploy"),
    )
    return sorted((r for r in store.all("compliance_history") if r["entity_id"] == INCIDENT),
                  key=lambda r: r["version"])


def test_at_1410_as_known_at_1420_unacknowledged_as_known_now_acknowledged_at_1405() -> None:
    records = incident_history()

    then = compliance_history.state_as_of(records, "2026-11-23T14:20:00Z",
                                          "2026-11-23T14:10:00Z")
    now = compliance_history.state_as_of(records, "2026-12-01T00:00:00Z",
                                         "2026-11-23T14:10:00Z")

    assert then is not None and now is not None
    assert (then["version"], then["state"]["status"]) == (1, "open")
    assert then["state"]["acknowledged_at"] is None
    assert (now["version"], now["state"]["status"]) == (2, "acknowledged")
    assert now["state"]["acknowledged_at"] == "2026-11-23T14:05:00Z"


def test_effective_at_excludes_changes_that_happened_later_though_already_known() -> None:
    records = incident_history()

    at_1500 = compliance_history.state_as_of(records, "2026-12-01T00:00:00Z",
                                             "2026-11-23T15:00:00Z")
    before = compliance_history.state_as_of(records, "2026-12-01T00:00:00Z",
                                            "2026-11-23T13:59:59+00:00")

    assert at_1500 is not None and at_1500["state"]["status"] == "resolved"
    assert before is None  # it had not begun


def test_without_effective_at_as_of_keeps_its_meaning() -> None:
    records = incident_history()

    known = compliance_history.state_as_of(records, "2026-11-23T14:20:00Z")

    assert known is not None and known["version"] == 1
