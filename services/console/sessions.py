"""The console's sessions: a random id in an HttpOnly cookie, mapped in this process's
memory to the token that was pasted at sign-in and the session's CSRF token.

Why the token is kept (in memory, never in the cookie): a session must end as soon as
its token is revoked, so every request resolves the token again through the token
registry, exactly as a bearer request is resolved; that needs the token itself, not a
digest. Nothing is written to disk: a restart signs everybody out, and an API process
never sees another's sessions (run one API process behind the console, or route a
browser to the same one).

A session before sign-in (``token`` None) only carries the CSRF token of the sign-in
form; signing in replaces it with a new session id, so an id planted before sign-in is
worthless after it. The table is bounded: idle and old sessions expire, and beyond
``max_sessions`` the least recently used one is dropped.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "opsledger_console"
COOKIE_PATH = "/console"


@dataclass
class Session:
    id: str
    token: str | None = field(repr=False)
    """The pasted token; None before sign-in. Never in a repr (logs, tracebacks)."""
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    started: float = 0.0
    seen: float = 0.0

    @property
    def signed_in(self) -> bool:
        return self.token is not None


class SessionStore:
    def __init__(self, *, idle_seconds: float = 3600, max_age_seconds: float = 12 * 3600,
                 anonymous_seconds: float = 900, max_sessions: int = 5000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()
        self._idle = idle_seconds
        self._max_age = max_age_seconds
        self._anonymous = anonymous_seconds
        self._max = max_sessions
        self._clock = clock

    def start(self, token: str | None = None) -> Session:
        """A new session (signed in with ``token``, or before sign-in)."""
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), token, started=now, seen=now)
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        """The live session of that id (and it counts as used), else None."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if self._expired(session, now):
                del self._sessions[session_id]
                return None
            session.seen = now
            self._sessions.move_to_end(session_id)
            return session

    def end(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expired(self, session: Session, now: float) -> bool:
        if not session.signed_in:
            return now - session.started > self._anonymous
        return now - session.seen > self._idle or now - session.started > self._max_age
