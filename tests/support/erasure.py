"""What "gone means gone" looks for, and where: the erasure tests of both modes search
the raw bytes of files for each piece of erased plaintext and for each deleted key (as
stored, hex and base64), so a copy in any encoding a file format might use is found."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from infra.personal.keys import KeyStore
from infra.personal.reveal import revealing
from infra.read_store.sqlite import SQLiteReadStore
from tests.e2e.conftest import Api


def secrets_of(plaintexts: Iterable[str], keys: Mapping[str, bytes]) -> dict[str, bytes]:
    """What must be found nowhere once erased: ``{description: bytes}``."""
    found = {f"plaintext {text}": text.encode() for text in plaintexts}
    for subject, key in keys.items():
        found[f"key of {subject}"] = key
        found[f"key of {subject}, hex"] = key.hex().encode()
        found[f"key of {subject}, base64"] = base64.b64encode(key).rstrip(b"=")
    return found


def files_under(*folders: Path) -> list[Path]:
    """Every file below ``folders`` (a folder that does not exist has none)."""
    return sorted(p for folder in folders for p in folder.rglob("*") if p.is_file())


def found_in(files: Iterable[Path], secrets: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """``(what, file)`` for every secret some file holds (none: nothing was found)."""
    found = []
    for path in files:
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # a server rolled or removed it meanwhile
            continue
        found += [(what, str(path)) for what, secret in secrets.items() if secret in data]
    return found


@dataclass(frozen=True)
class People:
    """One member and one customer, written with personal data unique to a test."""

    marker: str
    team_id: str
    member_id: str
    member_email: str
    principal: str
    customer_email: str
    plaintexts: tuple[str, ...]
    """Every personal value written (each holds ``marker``)."""


def write_people(api: Api) -> People:
    """A team, a member bound to a principal, peer feedback about them and a customer's
    feedback naming the customer; every personal value holds one fresh marker."""
    marker = uuid4().hex
    team = api.team()
    name, email, principal = f"Zed {marker}", f"zed.{marker}@example.org", f"user:zed-{marker}"
    member_id = api.post(f"/v1/teams/{team}/members", {
        "name": name, "email": email, "role": "SRE", "principal": principal},
        expect=201).json()["id"]
    calm = f"calm {marker}"
    api.post("/v1/feedback", {"kind": "peer", "team_id": team,
                              "subject_member_id": member_id, "text": calm}, expect=201)
    slow, customer, customer_email = f"slow {marker}", f"Cy {marker}", f"cy.{marker}@example.net"
    api.post("/v1/feedback", {"kind": "customer", "team_id": team, "text": slow,
                              "customer": {"name": customer, "email": customer_email}},
             expect=201)
    return People(marker, team, member_id, email, principal, customer_email,
                  (marker, name, email, principal, calm, slow, customer, customer_email))


def keys_of(key_store: Path, people: People) -> dict[str, bytes]:
    """The member's and the customer's keys as the key store holds them (before erasure)."""
    keys = KeyStore(key_store)
    try:
        customer = keys.find_customer(people.customer_email)
        assert customer is not None
        subjects = {f"member:{people.member_id}": keys.key(f"member:{people.member_id}"),
                    customer: keys.key(customer)}
    finally:
        keys.close()
    held = {subject: key for subject, key in subjects.items() if key is not None}
    assert held.keys() == subjects.keys(), "every subject has its key before the erasure"
    return held


def erase_people(api: Api, people: People) -> int:
    """Erase the member and the customer; the position of the last erasure."""
    api.post(f"/v1/members/{people.member_id}/erase", {"reason": "asked"}, expect=201)
    return int(api.post("/v1/customers/erase", {"email": people.customer_email,
                                                "reason": "retention"},
                        expect=201).json()["position"])


def revealed_member(store_path: Path, keys_path: Path, member_id: str) -> dict[str, object]:
    """The member's document in a SQLite read model (a replay's, a rebuild's), opened
    with the key store as a reader would see it."""
    keys = KeyStore(keys_path)
    store = revealing(SQLiteReadStore(store_path), keys)
    try:
        member = store.get("members", member_id)
    finally:
        store.close()
        keys.close()
    assert member is not None
    return member
