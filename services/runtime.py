"""The composition root: builds every dependency from settings, each overridable.

Nothing connects at import time; ``Runtime.open`` is called by a service's
lifespan or main, and tests call it with a temporary data folder.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.access.service import AccessService
from domain.feedback.service import FeedbackService
from domain.goals.service import GoalService
from domain.incidents.service import IncidentService
from domain.ledger import Ledger
from domain.meta import utcnow
from domain.teams.service import TeamService
from infra.event_store import open_ledger
from infra.follower import EmbeddedFollower
from infra.private_files import private_dir
from infra.read_store.port import ReadStore
from infra.read_store.sqlite_store import SQLiteReadStore
from infra.settings import Settings
from infra.tokens import Grant, TokenConfigError, TokenRegistry, ensure_admin_token
from projections.registry import ALL_FOLDS
from services.api.rate_limits import RateLimits

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    ledger: Ledger
    store: ReadStore
    # The configured tokens; once built, also every token issued through the API
    # (resolved from the ledger on each request, so a revocation holds at once in
    # every process that shares the event store).
    tokens: TokenRegistry
    follower: EmbeddedFollower | None = None
    checkpoint_name: str = EmbeddedFollower.NAME
    started_at: float = field(default_factory=time.time)
    request_counts: dict[str, int] = field(default_factory=dict)
    teams: TeamService = field(init=False)
    goals: GoalService = field(init=False)
    incidents: IncidentService = field(init=False)
    feedback: FeedbackService = field(init=False)
    access: AccessService = field(init=False)
    rate_limits: RateLimits = field(init=False)

    def __post_init__(self) -> None:
        self.teams = TeamService(self.ledger)
        self.goals = GoalService(self.ledger)
        self.incidents = IncidentService(self.ledger)
        self.feedback = FeedbackService(self.ledger)
        self.access = AccessService(self.ledger)
        self.tokens = self.tokens.with_managed(self.issued_grant)
        self.rate_limits = RateLimits(
            auth_failures=self.settings.auth_failure_limit,
            auth_failure_window=self.settings.auth_failure_window_seconds,
            token_requests=self.settings.token_request_limit,
            token_request_window=self.settings.token_request_window_seconds,
        )

    def issued_grant(self, secret: str) -> Grant | None:
        """The grant of an active token issued through the API, else None."""
        token = self.access.resolve(secret, utcnow())
        if token is None:
            return None
        return Grant(token.principal, frozenset(token.roles), frozenset(token.teams),
                     token_key=f"issued:{token.id}")

    @classmethod
    def open(
        cls, settings: Settings, *, follow: bool = True,
        store_factory: Callable[[Settings], ReadStore] | None = None,
    ) -> Runtime:
        ledger = open_ledger(settings)
        store = (store_factory or default_store)(settings)
        runtime = cls(settings, ledger, store, load_tokens(settings))
        if settings.distributed:
            runtime.checkpoint_name = settings.projector_group
        if follow and not settings.distributed:
            follower = EmbeddedFollower(ledger, store, ALL_FOLDS, batch=settings.follower_batch)
            caught_up = follower.catch_up()
            if caught_up:
                log.info("read models caught up by %d positions", caught_up)
            follower.start()
            runtime.follower = follower
        return runtime

    def applied_position(self) -> int:
        if self.follower is not None:
            return self.follower.position
        return self.store.checkpoint(self._checkpoint_now())

    def _checkpoint_now(self) -> str:
        """The checkpoint of the generation serving now: each MongoDB generation is
        projected by its own consumer group, whose id names its checkpoint."""
        active_generation = getattr(self.store, "active_generation", None)
        if not self.settings.distributed or active_generation is None:
            return self.checkpoint_name
        _, group_suffix = active_generation()  # also moves the store to it
        return self.checkpoint_name + group_suffix

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: wait until the read models include ``position``."""
        if self.follower is not None:
            return self.follower.wait_for(position, timeout)
        # Distributed: projectors apply partitions independently, so "applied" means
        # the event's own audit record is stored (written last in its batch).
        from projections import audit_trail

        deadline = time.monotonic() + timeout
        delay = 0.02
        target: str | None = None  # the audit record's id ("" when there is none)
        while True:
            if target is None and position <= self.ledger.head_position():
                target = self._public_event_at_or_before(position)
            # By id: the one read FerretDB v1 answers from an index.
            if target is not None and (
                    target == "" or self.store.get(audit_trail.COLLECTION, target) is not None):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def _public_event_at_or_before(self, position: int) -> str:
        """The id of the public event at ``position``; positions of internal records
        (idempotency keys) stand for the public event saved just before them. ``""``
        when there is none."""
        from infra.notifications import read_envelopes

        start = max(0, position - 16)
        envelopes, _ = read_envelopes(self.ledger, start, position - start)
        before = [e for e in envelopes if e.position <= position]
        return max(before, key=lambda e: e.position).id if before else ""

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self.store.close()
        self.ledger.close()


def default_store(settings: Settings) -> ReadStore:
    if settings.mongo_uri and settings.distributed:
        from infra.read_store.mongo_store import MongoReadStore

        return MongoReadStore(settings.mongo_uri, settings.mongo_db)
    private_dir(settings.data_dir)
    return SQLiteReadStore(settings.read_store_path)


def load_tokens(settings: Settings) -> TokenRegistry:
    """The configured tokens (``TokenConfigError`` if malformed: the service refuses to
    start). Without any, the data folder's ``tokens.json``, created with an admin token
    on first start."""
    if settings.tokens:
        return TokenRegistry.from_json(settings.tokens)
    path = settings.tokens_file
    if path is None:
        path, _ = ensure_admin_token(settings.data_dir)
    try:
        return TokenRegistry.from_json(path.read_text())
    except OSError as e:
        raise TokenConfigError(f"cannot read tokens file {path}: {e}") from None
