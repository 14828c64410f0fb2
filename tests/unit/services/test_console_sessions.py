"""The console's session table: a session before sign-in lives minutes, a signed-in
one ends when idle or old, an ended one is gone, and the table is bounded."""

from __future__ import annotations

from services.console.sessions import SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_signed_in_session_ends_after_its_idle_time_and_use_keeps_it_alive() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=60, max_age_seconds=1000, clock=clock)
    session = store.start("token-0123456789abcdef")
    clock.now += 50
    assert store.get(session.id) is session
    clock.now += 50  # 100 s after the start, 50 s after its last use
    assert store.get(session.id) is session
    clock.now += 61
    assert store.get(session.id) is None
    assert len(store) == 0


def test_a_signed_in_session_ends_at_its_maximum_age_however_used() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=60, max_age_seconds=200, clock=clock)
    session = store.start("token-0123456789abcdef")
    for _ in range(4):
        clock.now += 50
        assert store.get(session.id) is session
    clock.now += 1
    assert store.get(session.id) is None


def test_a_session_before_sign_in_lives_only_minutes() -> None:
    clock = Clock()
    store = SessionStore(anonymous_seconds=900, clock=clock)
    session = store.start()
    assert not session.signed_in
    clock.now += 901
    assert store.get(session.id) is None


def test_an_ended_session_is_gone_and_unknown_ids_find_nothing() -> None:
    store = SessionStore()
    session = store.start("token-0123456789abcdef")
    store.end(session.id)
    assert store.get(session.id) is None
    assert store.get("") is None and store.get(None) is None and store.get("made-up") is None


def test_the_table_is_bounded_and_drops_the_least_recently_used() -> None:
    store = SessionStore(max_sessions=3)
    first, second, third = (store.start(f"token-{n}-0123456789") for n in range(3))
    assert store.get(first.id) is first  # used: now the most recent
    fourth = store.start("token-4-0123456789")
    assert len(store) == 3
    assert store.get(second.id) is None
    assert {s.id for s in (first, third, fourth) if store.get(s.id)} == {
        first.id, third.id, fourth.id}


def test_each_session_has_its_own_random_id_and_csrf_token() -> None:
    store = SessionStore()
    sessions = [store.start("token-0123456789abcdef") for _ in range(50)]
    assert len({s.id for s in sessions}) == 50
    assert len({s.csrf for s in sessions}) == 50
    assert all(len(s.id) >= 40 and s.id != s.csrf for s in sessions)
