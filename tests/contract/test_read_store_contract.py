"""The read-store contract: one body of tests, run against every adapter.

``sqlite`` is the embedded store; ``mongo`` runs against the real MongoDB-wire server
of the session (FerretDB or MongoDB), in a fresh database per test.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pymongo
import pytest
from pymongo import monitoring

from domain.envelope import EventEnvelope
from infra.read_store.mongo import MongoReadStore
from infra.read_store.port import AnyOf, BadCursorError, Range, ReadStore, encode_cursor
from infra.read_store.sqlite import SQLiteReadStore
from projections import audit_trail, views
from projections.catalog import INDEXED_FIELDS
from projections.engine import DocKey, fold_events
from projections.fold import Document
from projections.registry import ALL_FOLDS
from tests.unit.projections.builders import ev


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadStore]:
    made: ReadStore
    if request.param == "sqlite":
        made = SQLiteReadStore(tmp_path / "readmodels.sqlite")
    else:
        servers = request.getfixturevalue("servers")
        made = MongoReadStore(servers.mongo_uri, request.getfixturevalue("mongo_db"))
    try:
        yield made
    finally:
        made.close()


def doc(doc_id: str, version: int = 1, at: int = 1, /, *, stream: str | None = None,
        **fields: Any) -> Document:
    """A document as the engine writes it: fed by one stream (by default its own id),
    last changed by the event at global position ``at``."""
    return {"_id": doc_id, "id": doc_id, **fields,
            "_streams": {stream or doc_id: version}, "_position": at}


def put(store: ReadStore, collection: str, *docs: Document, checkpoint: int = 0) -> None:
    store.commit({(collection, d["_id"]): d for d in docs}, ("test", checkpoint))


def everything(store: ReadStore, collections: set[str]) -> dict[DocKey, Document]:
    return {
        (c, d["_id"]): d for c in sorted(collections) for d in store.iter_find(c, {})
    }


# -- get ------------------------------------------------------------------------------


def test_get_returns_the_document_as_committed(store: ReadStore) -> None:
    team = doc("team-1", 3, 7, name="SRE", roster=[{"member_id": "m-1", "active": True}],
               lead_id=None, score=4.5, meta={"nested": {"deep": [1, 2, 3]}})
    put(store, "teams", team)

    assert store.get("teams", "team-1") == team


def test_get_of_a_missing_document_or_collection_is_none(store: ReadStore) -> None:
    put(store, "teams", doc("team-1"))

    assert store.get("teams", "team-2") is None
    assert store.get("widgets", "team-1") is None


def test_get_many_returns_the_documents_found_by_id(store: ReadStore) -> None:
    docs = [doc(f"m-{i:04d}", team_id="team-1") for i in range(1200)]
    put(store, "members", *docs)
    wanted = [f"m-{i:04d}" for i in range(0, 1200, 2)] + ["m-9999", "nobody"]

    found = store.get_many("members", wanted)

    assert found == {d["_id"]: d for d in docs[::2]}
    assert store.get_many("members", []) == {}
    assert store.get_many("widgets", ["m-0001"]) == {}


# -- find -----------------------------------------------------------------------------


def incidents() -> list[Document]:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    return [
        doc(f"inc-{i:02d}", team_id=f"team-{i % 3}", severity=f"SEV{i % 4 + 1}",
            status="open" if i % 5 else "closed", open=bool(i % 5), rank=i % 4,
            opened_at=(start + timedelta(hours=7 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        for i in range(40)
    ]


def ids(docs: list[Document]) -> list[str]:
    return [d["_id"] for d in docs]


def test_find_filters_by_equality(store: ReadStore) -> None:
    all_docs = incidents()
    put(store, "incidents", *all_docs)

    page = store.find("incidents", {"team_id": "team-1", "status": "open"}, limit=100)

    assert ids(page.items) == sorted(
        d["_id"] for d in all_docs if d["team_id"] == "team-1" and d["status"] == "open"
    )
    assert page.next_cursor is None
    assert store.find("incidents", {"team_id": "team-7"}).items == []


def test_find_filters_by_booleans(store: ReadStore) -> None:
    all_docs = incidents()
    put(store, "incidents", *all_docs)

    for value in (True, False):
        page = store.find("incidents", {"open": value}, limit=100)
        assert ids(page.items) == sorted(d["_id"] for d in all_docs if d["open"] is value)
        assert all(d["open"] is value for d in page.items)


def test_find_filters_by_ranges(store: ReadStore) -> None:
    all_docs = incidents()
    put(store, "incidents", *all_docs)
    low, high = all_docs[5]["opened_at"], all_docs[20]["opened_at"]

    def found(filters: dict[str, Any]) -> list[str]:
        return ids(store.find("incidents", filters, order_by="opened_at", limit=100).items)

    assert found({"opened_at": Range(gte=low, lte=high)}) == ids(all_docs[5:21])
    assert found({"opened_at": Range(gte=high)}) == ids(all_docs[20:])
    assert found({"opened_at": Range(lte=low)}) == ids(all_docs[:6])
    assert found({"opened_at": Range()}) == ids(all_docs)
    assert found({"rank": Range(gte=1, lte=2), "team_id": "team-0"}) == [
        d["_id"] for d in all_docs if 1 <= d["rank"] <= 2 and d["team_id"] == "team-0"
    ]


def test_find_filters_by_any_of_several_values(store: ReadStore) -> None:
    all_docs = incidents()
    all_docs[0].pop("team_id")  # a document folded before the field existed
    all_docs[1]["team_id"] = None
    put(store, "incidents", *all_docs)

    def found(filters: dict[str, Any]) -> list[str]:
        return ids(store.find("incidents", filters, order_by="opened_at", limit=100).items)

    assert found({"team_id": AnyOf(["team-0", "team-2"])}) == [
        d["_id"] for d in all_docs if d.get("team_id") in {"team-0", "team-2"}
    ]
    assert found({"team_id": AnyOf(["team-1"]), "status": "open"}) == [
        d["_id"] for d in all_docs if d.get("team_id") == "team-1" and d["status"] == "open"
    ]
    assert found({"team_id": AnyOf([])}) == []
    assert found({"team_id": AnyOf(["team-7"])}) == []


def test_none_matches_nothing_not_even_a_missing_field(store: ReadStore) -> None:
    all_docs = incidents()
    all_docs[0].pop("team_id")
    all_docs[1]["team_id"] = None
    put(store, "incidents", *all_docs)

    assert store.find("incidents", {"team_id": None}, limit=100).items == []
    assert store.find("incidents", {"team_id": AnyOf([None])}, limit=100).items == []
    assert ids(store.find("incidents", {"team_id": AnyOf([None, "team-1"])},
                          limit=100).items) == sorted(
        d["_id"] for d in all_docs if d.get("team_id") == "team-1"
    )


def test_cursor_paging_with_any_of_stays_within_it(store: ReadStore) -> None:
    all_docs = incidents()
    put(store, "incidents", *all_docs)
    filters = {"team_id": AnyOf(("team-0", "team-1"))}

    seen: list[str] = []
    cursor = None
    for _ in range(len(all_docs)):
        page = store.find("incidents", filters, order_by="opened_at", limit=3, cursor=cursor)
        seen += ids(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [d["_id"] for d in all_docs if d["team_id"] in {"team-0", "team-1"}]


def test_find_orders_by_a_field_with_ties_broken_by_id(store: ReadStore) -> None:
    all_docs = incidents()
    put(store, "incidents", *reversed(all_docs))

    page = store.find("incidents", {}, order_by="severity", limit=100)

    assert ids(page.items) == ids(sorted(all_docs, key=lambda d: (d["severity"], d["_id"])))
    assert ids(store.find("incidents", {}, limit=100).items) == sorted(ids(all_docs))


@pytest.mark.parametrize("limit", [1, 3, 7, 50])
@pytest.mark.parametrize("order_by", ["_id", "severity", "rank", "opened_at", "note"])
def test_cursor_paging_visits_every_document_exactly_once(
    store: ReadStore, order_by: str, limit: int
) -> None:
    all_docs = incidents()
    for i, d in enumerate(all_docs):  # some documents lack the field, some hold null
        if i % 3 == 0:
            d["note"] = f"note-{i % 4}"
        elif i % 3 == 1:
            d["note"] = None
    put(store, "incidents", *all_docs)

    def key(d: Document) -> tuple[bool, Any, str]:  # nulls and missing values first
        value = d.get(order_by)
        return (value is not None, "" if value is None else value, d["_id"])

    expected = sorted(all_docs, key=key)

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = store.find("incidents", {}, order_by=order_by, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        seen += ids(page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        assert pages <= len(all_docs)

    assert seen == ids(expected)
    assert pages == -(-len(all_docs) // limit)


def test_cursor_paging_with_a_filter_stays_within_it(store: ReadStore) -> None:
    all_docs = incidents()
    put(store, "incidents", *all_docs)
    filters = {"team_id": "team-2", "opened_at": Range(gte=all_docs[3]["opened_at"])}

    first = store.find("incidents", filters, order_by="opened_at", limit=4)
    second = store.find("incidents", filters, order_by="opened_at", limit=100,
                        cursor=first.next_cursor)

    expected = [d for d in all_docs[3:] if d["team_id"] == "team-2"]
    assert ids(first.items) + ids(second.items) == ids(expected)
    assert second.next_cursor is None


@pytest.mark.parametrize("cursor", [
    "not a cursor!",
    base64.urlsafe_b64encode(b"garbage").decode(),
    base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    base64.urlsafe_b64encode(json.dumps(["x", 5]).encode()).decode(),
])
def test_a_garbage_cursor_is_refused(store: ReadStore, cursor: str) -> None:
    put(store, "incidents", *incidents())

    with pytest.raises(BadCursorError):
        store.find("incidents", {}, order_by="opened_at", cursor=cursor)


def test_a_cursor_of_another_order_still_pages_forward(store: ReadStore) -> None:
    put(store, "incidents", *incidents())

    page = store.find("incidents", {}, cursor=encode_cursor(None, "inc-37"), limit=100)

    assert ids(page.items) == ["inc-38", "inc-39"]


def test_find_in_a_collection_without_documents_is_empty(store: ReadStore) -> None:
    page = store.find("widgets", {"a": 1}, order_by="b")

    assert (page.items, page.next_cursor) == ([], None)


@pytest.mark.parametrize("name", ["a.b", "$where", "a b", "Bad"])
def test_field_names_are_checked(store: ReadStore, name: str) -> None:
    with pytest.raises(ValueError, match="bad field name"):
        store.find("incidents", {name: 1})
    with pytest.raises(ValueError, match="bad field name"):
        store.find("incidents", {}, order_by=name)


# -- iter_find ------------------------------------------------------------------------


def test_iter_find_walks_many_chunks_in_order(store: ReadStore) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    docs = [
        doc(f"e-{i:05d}", 1, i + 1, owner=f"team:{i % 2}",
            time=(start + timedelta(minutes=(i * 7919) % 2500)).isoformat())
        for i in range(2500)
    ]
    put(store, "timeline", *docs)

    by_time = list(store.iter_find("timeline", {}, order_by="time", chunk=1000))
    by_id = list(store.iter_find("timeline", {"owner": "team:1"}, chunk=1000))

    assert ids(by_time) == ids(sorted(docs, key=lambda d: (d["time"], d["_id"])))
    assert ids(by_id) == sorted(d["_id"] for d in docs if d["owner"] == "team:1")
    assert list(store.iter_find("widgets", {})) == []


# -- commit ---------------------------------------------------------------------------


def test_commit_twice_gives_the_same_state(store: ReadStore) -> None:
    changes = {
        ("teams", "team-1"): doc("team-1", 2, 2, name="SRE"),
        ("members", "m-1"): doc("m-1", 2, 2, stream="team-1", team_id="team-1"),
        ("audit_trail", "ev-1"): doc("ev-1", 2, 2, stream="team-1", position=2),
    }
    store.commit(changes, ("p", 2))
    first = everything(store, {"teams", "members", "audit_trail"})

    store.commit(changes, ("p", 2))

    assert everything(store, {"teams", "members", "audit_trail"}) == first == {
        key: changes[key] for key in sorted(changes)
    }
    assert store.checkpoint("p") == 2


def test_a_write_once_document_keeps_its_first_copy(store: ReadStore) -> None:
    first = doc("ev-1", 1, 7, stream="inc-1", position=7, summary="as first folded")
    again = doc("ev-1", 1, 7, stream="inc-1", position=7, summary="refolded later")

    store.commit({("timeline", "ev-1"): first}, ("p", 7))
    store.commit({("timeline", "ev-1"): again}, ("p", 7))

    assert store.get("timeline", "ev-1") == first


def test_an_owned_document_is_replaced_and_a_new_one_inserted(store: ReadStore) -> None:
    put(store, "goals", doc("g-1", 1, 1, status="open"))
    newer = doc("g-1", 2, 2, status="achieved")
    fresh = doc("g-2", 1, 3, status="open")

    store.commit({("goals", "g-1"): newer, ("goals", "g-2"): fresh}, ("p", 3),
                 owned={("goals", "g-1"), ("goals", "g-2")})

    assert everything(store, {"goals"}) == {("goals", "g-1"): newer, ("goals", "g-2"): fresh}


def test_an_older_document_never_overwrites_a_newer_one(store: ReadStore) -> None:
    newer = [doc(f"g-{i}", 5, 100 + i, status="achieved") for i in range(30)]
    older = [doc(f"g-{i}", 4, 50 + i, status="open") for i in range(30)]
    fresh = [doc(f"g-{i}", 1, 200 + i, status="open") for i in range(30, 60)]
    put(store, "goals", *newer)

    # stale and fresh writes interleaved in one commit: the fresh ones all land
    mixed = [d for pair in zip(older, fresh, strict=True) for d in pair]
    put(store, "goals", *mixed)

    assert everything(store, {"goals"}) == {("goals", d["_id"]): d for d in newer + fresh}


def test_a_document_fed_by_several_streams_takes_a_lower_position_from_another_stream(
    store: ReadStore,
) -> None:
    """Kafka partitions interleave: team-b's event 50 may arrive after team-a's 100."""
    stored = {**doc("m-1", 1, 100, team_id="team-a"), "_streams": {"team-a": 5}}
    later = {**doc("m-1", 1, 50, team_id="team-b"),
             "_streams": {"team-a": 5, "team-b": 1}}
    stale = {**doc("m-1", 1, 120, team_id="stale"),
             "_streams": {"team-a": 4, "team-b": 1}}
    put(store, "members", stored)

    put(store, "members", later)
    assert store.get("members", "m-1") == later

    put(store, "members", stale)
    assert store.get("members", "m-1") == later


def test_the_checkpoint_only_moves_forward(store: ReadStore) -> None:
    assert store.checkpoint("projector") == 0

    for position, expected in [(10, 10), (5, 10), (10, 10), (11, 11), (3, 11)]:
        store.commit({}, ("projector", position))
        assert store.checkpoint("projector") == expected

    store.commit({("teams", "t"): doc("t", 1, 4)}, ("other", 4))
    assert (store.checkpoint("other"), store.checkpoint("projector")) == (4, 11)


def test_has_position_tells_whether_an_events_audit_record_is_stored(
    store: ReadStore,
) -> None:
    assert not store.has_position(7)

    store.commit({("audit_trail", "ev-7"): doc("ev-7", 3, 7, stream="team-1", position=7)},
                 ("p", 7))

    assert store.has_position(7)
    assert not store.has_position(8)
    assert not store.has_position(6)


def test_the_indexed_collections_are_queryable_from_the_start(store: ReadStore) -> None:
    for collection, fields in INDEXED_FIELDS.items():
        for name in fields:
            assert store.find(collection, {name: "x"}, order_by=name).items == []


def test_ping_answers(store: ReadStore) -> None:
    store.ping()


# -- the engine round trip ------------------------------------------------------------


class Ledger:
    """Events with gap-free global positions and per-aggregate versions."""

    def __init__(self) -> None:
        self.events: list[EventEnvelope] = []
        self.versions: dict[str, int] = {}
        self.clock = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def __call__(self, context: str, name: str, subject: str, /, actor: str = "user:lead",
                 **data: Any) -> None:
        self.versions[subject] = version = self.versions.get(subject, 0) + 1
        self.clock += timedelta(minutes=13)
        time = self.clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.events.append(
            ev(context, name, subject, version, len(self.events) + 1, time, actor=actor, **data)
        )


def a_quarter() -> list[EventEnvelope]:
    """Two teams, then their goals, incidents and feedback interleaved (as commands from
    many people arrive): every fold has work, and most batches leave work for later."""
    e = Ledger()
    people = {"team-sre": ["m-ada", "m-bob", "m-cy"], "team-db": ["m-dee", "m-eve"]}
    for team, members in people.items():
        e("teams", "TeamFormed", team, name=team.upper(), mission="Keep it up")
        for m in members:
            e("teams", "MemberJoined", team, member_id=m, name=m[2:].title(),
              email=f"{m}@example.com", role="engineer", responsibilities=["on-call"])
        e("teams", "RoleAssigned", team, member_id=members[0], role="senior engineer",
          previous_role="engineer", responsibilities=["on-call", "db"],
          effective_date="2026-11-03", reason="promotion")
        e("teams", "TeamLeadChanged", team, member_id=members[0], previous_lead_id=None,
          reason="new lead")

    scripts: list[list[tuple[tuple[str, str, str], dict[str, Any]]]] = []

    def script(*steps: tuple[str, str, str, dict[str, Any]]) -> None:
        scripts.append([((c, n, s), data) for c, n, s, data in steps])

    script(("teams", "TeamLeadChanged", "team-sre",
            {"member_id": "m-bob", "previous_lead_id": "m-ada", "reason": "rotation"}),
           ("teams", "MemberLeft", "team-sre", {"member_id": "m-cy", "reason": "moved on"}))
    for i, (team, owner) in enumerate([("team-sre", "m-ada"), ("team-db", "m-dee"),
                                       ("team-sre", "m-bob")]):
        goal = f"goal-{i}"
        steps: list[tuple[str, str, str, dict[str, Any]]] = [
            ("goals", "GoalSet", goal, {
                "team_id": team, "owner_id": owner, "title": f"Goal {i}",
                "metric": "p99 latency", "baseline": 400.0, "target": 200.0, "unit": "ms",
                "deadline": "2026-12-31"}),
            *[("goals", "ProgressCheckedIn", goal,
               {"actor": f"user:{owner}", "value": value, "note": f"at {value}"})
              for value in (350.0, 300.0, 260.0)],
        ]
        if i == 0:
            steps += [("goals", "TargetRevised", goal,
                       {"old_target": 200.0, "new_target": 250.0, "reason": "later"}),
                      ("goals", "GoalAchieved", goal, {"note": "done"})]
        script(*steps)
    for i, team in enumerate(["team-sre", "team-db", "team-sre"]):
        incident = f"inc-{i}"
        responder = people[team][1]
        steps = [
            ("incidents", "IncidentOpened", incident, {
                "team_id": team, "severity": f"SEV{i + 1}", "service": "payments-api",
                "summary": "5xx spike"}),
            ("incidents", "IncidentAcknowledged", incident, {"actor": f"user:{responder}"}),
            ("incidents", "ResponderAssigned", incident, {"responder_id": responder}),
        ]
        if i < 2:
            steps += [
                ("incidents", "IncidentEscalated", incident, {
                    "from_severity": f"SEV{i + 1}", "to_severity": "SEV1",
                    "reason": "all regions"}),
                ("incidents", "TimelineNoteAdded", incident, {"text": "rolling back"}),
                ("incidents", "IncidentMitigated", incident, {"summary": "rolled back"}),
                ("incidents", "IncidentResolved", incident,
                 {"summary": "fixed", "root_cause": "bad deploy"}),
            ]
        if i == 0:
            steps += [
                ("incidents", "PostmortemPublished", incident, {
                    "causes": ["bad deploy"], "action_items": [
                        {"title": "canary", "owner_id": "m-ada", "due": "2026-12-15"}]}),
                ("incidents", "IncidentClosed", incident, {}),
            ]
        script(*steps)
    for i, (team, channel, about) in enumerate([
        ("team-sre", "email", None), ("team-db", "chat", "m-eve"),
        ("team-db", "phone", "m-eve"), ("team-sre", "survey", "m-bob"),
    ]):
        script(("feedback", "CustomerFeedbackReceived", f"fb-{i}", {
                    "team_id": team, "channel": channel, "score": i + 2,
                    "text": f"feedback {i}", "subject_member_id": about}),
               ("feedback", "FeedbackTriaged", f"fb-{i}",
                {"priority": "high", "owner_id": people[team][0]}),
               ("feedback", "FeedbackResolved", f"fb-{i}", {"resolution": "answered"}))
    script(("feedback", "PeerFeedbackGiven", "fb-peer", {
                "team_id": "team-sre", "kind": "peer", "subject_member_id": "m-ada",
                "score": 8, "text": "calm"}),
           ("feedback", "PeerFeedbackGiven", "fb-review", {
                "team_id": "team-db", "kind": "manager", "subject_member_id": "m-dee",
                "score": 9, "text": "great"}))

    for round_ in range(max(len(steps) for steps in scripts)):
        for steps in scripts:
            if round_ < len(steps):
                (context, name, subject), data = steps[round_]
                e(context, name, subject, **data)
    return e.events


def the_oracle(events: list[EventEnvelope]) -> dict[DocKey, Document]:
    """Every document of one in-memory fold of all the events at once."""
    return fold_events(events, ALL_FOLDS, lambda collection, doc_id: None)


def feed(store: ReadStore, events: list[EventEnvelope], sizes: list[int]) -> None:
    """Fold and commit ``events`` in batches of the given sizes (cycled)."""
    i = 0
    k = 0
    while i < len(events):
        batch = events[i : i + sizes[k % len(sizes)]]
        store.commit(fold_events(batch, ALL_FOLDS, store.get), ("projector", batch[-1].position))
        i += len(batch)
        k += 1


@pytest.mark.parametrize("sizes", [[1], [2, 7, 3], [25], [1000]], ids=str)
def test_folding_in_batches_and_redelivering_matches_one_in_memory_fold(
    store: ReadStore, sizes: list[int],
) -> None:
    events = a_quarter()
    oracle = the_oracle(events)
    assert len(events) >= 60 and len({c for c, _ in oracle}) >= 8

    feed(store, events, sizes)
    assert everything(store, {c for c, _ in oracle}) == oracle
    assert store.checkpoint("projector") == events[-1].position

    # an overlapping batch comes again (e.g. after a consumer rebalance): a no-op
    assert fold_events(events[20:45], ALL_FOLDS, store.get) == {}
    feed(store, events[20:45], [10])
    assert everything(store, {c for c, _ in oracle}) == oracle
    assert all(store.has_position(e.position) for e in events)


def test_a_crash_between_collections_is_repaired_by_redelivery(store: ReadStore) -> None:
    """What MongoDB may hold after a crash mid-commit; the batch then comes again."""
    events = a_quarter()
    oracle = the_oracle(events)
    feed(store, events[:30], [10])

    batch = events[30:60]
    changes = fold_events(batch, ALL_FOLDS, store.get)
    first_written = {  # as MongoReadStore orders its writes: folds' sources last
        key: d for key, d in changes.items()
        if key[0] not in entity_views_collections() and key[0] != audit_trail.COLLECTION
    }
    partial = dict(list(first_written.items())[: len(first_written) // 2])
    store.commit(partial, ("projector", 30))  # then the process died

    assert not store.has_position(45)
    feed(store, events[30:], [30])  # redelivery from the checkpoint

    assert everything(store, {c for c, _ in oracle}) == oracle


def test_a_stale_batch_written_late_regresses_nothing(store: ReadStore) -> None:
    """A zombie projector commits what it folded before a newer one took over."""
    events = a_quarter()
    oracle = the_oracle(events)
    feed(store, events[:30], [30])
    stale = fold_events(events[30:45], ALL_FOLDS, store.get)
    assert [key for key, d in stale.items() if oracle[key] != d]  # later events change them

    feed(store, events[30:], [7])
    store.commit(stale, ("projector", events[44].position))

    assert everything(store, {c for c, _ in oracle}) == oracle
    assert store.checkpoint("projector") == events[-1].position


def entity_views_collections() -> set[str]:
    return {fold.collection for fold in views.FOLDS}


# -- the MongoDB adapter's write plan ---------------------------------------------------


class Writes(monitoring.CommandListener):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, int]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in ("insert", "update"):
            name = event.command_name
            batch = event.command.get("documents" if name == "insert" else "updates", [])
            self.seen.append((name, event.command[name], len(batch)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.mark.integration
def test_mongo_writes_dependents_then_looked_up_views_then_audit_then_checkpoint(
    servers: Any, mongo_db: str,
) -> None:
    writes = Writes()
    client: pymongo.MongoClient = pymongo.MongoClient(
        servers.mongo_uri, event_listeners=[writes], serverSelectionTimeoutMS=5000
    )
    store = MongoReadStore(servers.mongo_uri, mongo_db, client=client)
    events = a_quarter()
    changes = fold_events(events, ALL_FOLDS, store.get)

    def rank(collection: str) -> int:
        if collection == "checkpoints":
            return 3
        if collection == audit_trail.COLLECTION:
            return 2
        return 1 if collection in entity_views_collections() else 0

    for _ in range(2):  # the second time every document exists: replaced, not inserted
        writes.seen.clear()
        store.commit(changes, ("projector", events[-1].position))
        ranks = [rank(collection) for _, collection, _ in writes.seen]
        assert ranks == sorted(ranks) and ranks[-1] == 3 and ranks.count(3) == 1
        assert ranks.count(2) >= 1
        assert all(n <= 20 for name, _, n in writes.seen if name == "update")

    assert everything(store, {c for c, _ in changes}) == changes
    store.close()
    client.admin.command("ping")  # the store leaves a client it was given open
    client.close()
