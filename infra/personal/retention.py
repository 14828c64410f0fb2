"""A retention run: find the data subjects whose personal data is due
(``domain/privacy/retention.py``), erase them one by one, and say what happened.

The candidates are read from the read models as stored, so sealed: a member document
gives its member id, whether it is active and when it left; a customer feedback
document's sealed ``customer.email`` names the key store's customer id
(``pii:v1:customer:<id>:...``) without being opened, so a run never decrypts anything.
A customer named in clear (feedback stored before sealing) counts only if the key store
knows the address (by its HMAC) from sealed feedback too: the plaintext itself is out of
reach of any erasure (README, "What erasure does not reach"). Each erasure is an
ordinary erasure command (the caller's principal is its actor; holds are checked inside
it), with a reason that names the kind and the period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.errors import DomainError
from domain.ledger import CommandContext
from domain.personal import ERASED
from domain.privacy.aggregate import erasure_id
from domain.privacy.gates import ActiveHold, UnderLegalHoldError
from domain.privacy.retention import (
    KINDS,
    Candidate,
    RetentionKind,
    RetentionPeriods,
    due_at,
    is_due,
    retention_reason,
)
from domain.privacy.service import ErasureService
from infra.personal.keys import KeyStore
from infra.personal.sealing import SEALED
from infra.read_store.port import ReadStore
from projections.times import parse_time


@dataclass
class CustomerFeedback:
    """What the customer feedback documents say of one customer."""

    latest: datetime
    teams: set[str] = field(default_factory=set)


def customers(store: ReadStore, keys: KeyStore) -> dict[str, CustomerFeedback]:
    """Every customer named by feedback, by key-store id: their latest feedback's
    business time and the teams that received their feedback."""
    found: dict[str, CustomerFeedback] = {}
    for doc in store.iter_find("feedback", {"kind": "customer"}):
        customer_id = _customer_id((doc.get("customer") or {}).get("email"), keys)
        if customer_id is None or not doc.get("received_at"):
            continue
        at = parse_time(str(doc["received_at"]))
        entry = found.setdefault(customer_id, CustomerFeedback(at))
        entry.latest = max(entry.latest, at)
        if doc.get("team_id"):
            entry.teams.add(str(doc["team_id"]))
    return found


def customer_teams(store: ReadStore, keys: KeyStore) -> Callable[[str], frozenset[str]]:
    """The teams that received feedback from a customer, by key-store id (for the
    erasure's hold check)."""

    def teams(customer_id: str) -> frozenset[str]:
        entry = customers(store, keys).get(customer_id)
        return frozenset() if entry is None else frozenset(entry.teams)

    return teams


def _customer_id(email: Any, keys: KeyStore) -> str | None:
    if not isinstance(email, str) or not email.strip() or email == ERASED:
        return None
    sealed = SEALED.match(email)
    if sealed is not None:
        return sealed.group(2) if sealed.group(1) == "customer" else None
    subject = keys.find_customer(email) or keys.erased_customer(email)  # stored in clear
    return None if subject is None else subject.removeprefix("customer:")


def member_candidates(store: ReadStore, erased: Callable[[str, str], bool]) -> list[Candidate]:
    found = []
    for doc in store.iter_find("members", {}):
        left = doc.get("left_at") if not doc.get("active", True) else None
        found.append(Candidate("member", str(doc["id"]),
                               parse_time(str(left)) if left else None,
                               erased("member", str(doc["id"]))))
    return found


@dataclass
class KindReport:
    """What a run found and did for one kind of personal data."""

    kind: RetentionKind
    retention_days: int | None
    due: int = 0
    erased: int = 0
    already_erased: int = 0
    held: list[dict[str, str]] = field(default_factory=list)
    refused: list[dict[str, str]] = field(default_factory=list)
    remaining: int = 0
    """Due subjects this call left for the next (``limit``)."""
    subjects: list[dict[str, str]] = field(default_factory=list)


@dataclass
class RetentionRun:
    """One run: the erasure service, the read models it reads candidates from, the
    key store, the periods and the time."""

    erasures: ErasureService
    store: ReadStore
    keys: KeyStore
    periods: RetentionPeriods
    now: datetime

    def erased(self, kind: str, subject_id: str) -> bool:
        return self.erasures.ledger.exists(erasure_id(kind, subject_id))  # type: ignore[arg-type]

    def run(self, ctx: CommandContext, *, dry_run: bool, limit: int) -> list[KindReport]:
        """Erase what is due (at most ``limit`` subjects; none with ``dry_run``)."""
        known = customers(self.store, self.keys)
        candidates = {
            "customer": [Candidate("customer", cid, c.latest, self.erased("customer", cid))
                         for cid, c in sorted(known.items())],
            "member": member_candidates(self.store, self.erased),
        }
        budget = limit
        reports = []
        for kind in KINDS:
            report = KindReport(kind, self.periods.days(kind))
            reports.append(report)
            for candidate in sorted(candidates[kind], key=lambda c: c.subject_id):
                if candidate.erased:
                    report.already_erased += 1
                    continue
                if not is_due(candidate, self.periods, self.now):
                    continue
                report.due += 1
                teams = frozenset(known[candidate.subject_id].teams) if kind == "customer" \
                    else None
                outcome = self._one(candidate, teams, ctx, dry_run=dry_run,
                                    budget=budget, report=report)
                if outcome == "erased":
                    budget -= 1
                at = due_at(candidate, self.periods)
                report.subjects.append({"subject_id": candidate.subject_id,
                                        "due_at": at.isoformat() if at else "",
                                        "outcome": outcome})
        return reports

    def _one(self, candidate: Candidate, teams: frozenset[str] | None, ctx: CommandContext,
             *, dry_run: bool, budget: int, report: KindReport) -> str:
        hold = self._hold(candidate, teams)
        if hold is not None:
            report.held.append(_held(candidate.subject_id, hold))
            return "held"
        if dry_run:
            return "due"
        if budget <= 0:
            report.remaining += 1
            return "remaining"
        reason = retention_reason(candidate.kind, self.periods)
        try:
            if candidate.kind == "member":
                self.erasures.erase_member(UUID(candidate.subject_id), reason, ctx,
                                           only_if_left=True)
            else:
                self.erasures.erase_customer_id(candidate.subject_id, reason, ctx,
                                                teams=teams)
        except UnderLegalHoldError as held:  # placed since the check above
            report.held.append(_held(candidate.subject_id, held.hold))
            return "held"
        except DomainError as refused:
            report.refused.append({"subject_id": candidate.subject_id,
                                   "detail": str(refused)})
            return "refused"
        report.erased += 1
        return "erased"

    def _hold(self, candidate: Candidate, teams: frozenset[str] | None) -> ActiveHold | None:
        if candidate.kind == "member":
            return self.erasures.hold_on_member(UUID(candidate.subject_id))
        return self.erasures.hold_on_customer(candidate.subject_id, teams=teams)


def _held(subject_id: str, hold: ActiveHold) -> dict[str, str]:
    return {"subject_id": subject_id, "hold_id": hold.hold_id, "hold_reason": hold.reason}
