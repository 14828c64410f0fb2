"""Erasure, as domain specifications: given a member or a customer, when erased, then
one ``PersonalDataErased`` naming the subject (and no personal data), the key deleted
after the event; unknown, out of scope or erased already: refused, key untouched."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from domain.errors import DomainError, NotFoundError, OutOfScopeError
from domain.ledger import CommandContext, Ledger
from domain.meta import CommandMeta
from domain.privacy.aggregate import Erasure, erasure_id
from domain.privacy.service import ErasureService
from domain.teams import commands as tc
from domain.teams.service import TeamService


class Keys:
    """The key store's part in an erasure, in memory: what was marked and deleted."""

    def __init__(self) -> None:
        self.customers = {"cy@example.net": "customer:" + str(uuid4())}
        self.erased_customers: dict[str, str] = {}
        self.marked: set[str] = set()
        self.log: list[str] = []

    def find_customer(self, email: str) -> str | None:
        return self.customers.get(email)

    def erased_customer(self, email: str) -> str | None:
        return self.erased_customers.get(email)

    def begin_erasure(self, subject: str) -> None:
        self.marked.add(subject)
        self.log.append(f"begin {subject}")

    def abandon_erasure(self, subject: str) -> None:
        self.marked.discard(subject)
        self.log.append(f"abandon {subject}")

    def pending_erasures(self) -> list[str]:
        return sorted(self.marked)

    def erase(self, subject: str) -> bool:
        self.marked.discard(subject)
        for email, known in list(self.customers.items()):
            if known == subject:
                self.erased_customers[email] = self.customers.pop(email)
        self.log.append(f"erase {subject}")
        return True


def ctx(teams: frozenset[str] = frozenset({"*"})) -> CommandContext:
    return CommandContext(CommandMeta("user:admin"), teams=teams)


def a_member(ledger: Ledger) -> tuple[UUID, UUID]:
    teams = TeamService(ledger)
    team = teams.form(tc.FormTeam("SRE"), ctx()).id
    return team, teams.add_member(tc.AddMember(team, "Zed", "zed@example.org", "SRE"), ctx()).id


def test_erasing_a_member_records_the_subject_then_deletes_its_key(ledger: Ledger) -> None:
    team, member = a_member(ledger)
    keys = Keys()
    result = ErasureService(ledger, keys).erase_member(member, "asked", ctx())

    erasure = ledger.load(Erasure, result.id)
    assert result.id == erasure_id("member", str(member)) and result.created
    assert (erasure.subject, erasure.team_id) == (f"member:{member}", str(team))
    [event] = ledger.repository.event_store.get(result.id)
    assert type(event) is Erasure.PersonalDataErased
    assert {k: getattr(event, k) for k in ("subject_kind", "subject_id", "team_id", "reason")} \
        == {"subject_kind": "member", "subject_id": str(member), "team_id": str(team),
            "reason": "asked"}
    assert keys.log == [f"begin member:{member}", f"erase member:{member}"]


def test_a_member_erased_already_is_refused_and_the_erasure_is_finished(
    ledger: Ledger,
) -> None:
    _, member = a_member(ledger)
    keys = Keys()
    service = ErasureService(ledger, keys)
    service.erase_member(member, "asked", ctx())
    head = ledger.head_position()

    with pytest.raises(DomainError, match="already erased"):
        service.erase_member(member, "asked", ctx())
    assert ledger.head_position() == head
    assert keys.log[-1] == f"erase member:{member}" and not keys.marked


def test_an_unknown_or_out_of_scope_member_is_refused_and_the_key_opens_again(
    ledger: Ledger,
) -> None:
    _, member = a_member(ledger)
    keys = Keys()
    service = ErasureService(ledger, keys)
    with pytest.raises(NotFoundError):
        service.erase_member(uuid4(), "asked", ctx())
    with pytest.raises(OutOfScopeError):
        service.erase_member(member, "asked", ctx(frozenset({str(uuid4())})))
    with pytest.raises(DomainError, match="needs a reason"):
        service.erase_member(member, "  ", ctx())
    assert not keys.marked and keys.log[-1] == f"abandon member:{member}"
    assert not ledger.exists(erasure_id("member", str(member)))


def test_erasing_a_customer_names_the_key_stores_id_never_the_address(ledger: Ledger) -> None:
    keys = Keys()
    subject = keys.customers["cy@example.net"]
    service = ErasureService(ledger, keys)
    result = service.erase_customer("cy@example.net", "retention", ctx())

    erasure = ledger.load(Erasure, result.id)
    assert (erasure.subject, erasure.team_id) == (subject, None)
    with pytest.raises(DomainError, match="already erased"):
        service.erase_customer("cy@example.net", "retention", ctx())
    with pytest.raises(NotFoundError):
        service.erase_customer("nobody@example.net", "retention", ctx())
    with pytest.raises(OutOfScopeError):
        service.erase_customer("cy@example.net", "retention", ctx(frozenset({str(uuid4())})))


def test_start_up_finishes_recorded_erasures_and_abandons_the_others(ledger: Ledger) -> None:
    _, member = a_member(ledger)
    keys = Keys()
    service = ErasureService(ledger, keys)
    service.erase_member(member, "asked", ctx())
    unrecorded = f"member:{uuid4()}"
    keys.begin_erasure(f"member:{member}")  # as if the process died before erase()
    keys.begin_erasure(unrecorded)  # as if it died before the event was saved

    finished = service.finish_pending()

    assert (finished.erased, finished.abandoned) == ([f"member:{member}"], [unrecorded])
    assert not keys.marked
