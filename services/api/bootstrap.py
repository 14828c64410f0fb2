"""The composition root: builds every dependency from settings, each overridable.

Nothing connects at import time; ``Runtime.open`` is called by a service's
lifespan or main, and tests call it with a temporary data folder.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anyio

from domain.access.service import AccessService
from domain.compliance.findings import FindingService
from domain.compliance.policies import PolicyService
from domain.feedback.service import FeedbackService
from domain.goals.service import GoalService
from domain.imports.service import ImportService
from domain.incidents.service import IncidentService
from domain.ledger import Ledger
from domain.meta import utcnow
from domain.people.service import PeopleService
from domain.privacy.holds import LegalHoldService
from domain.privacy.service import ErasureService
from domain.risks.service import RiskService
from domain.teams.service import TeamService
from infra.auth import Grant, TokenConfigError, TokenRegistry, ensure_admin_token
from infra.event_store import key_store, open_ledger
from infra.personal.retention import customer_teams
from infra.personal.reveal import revealing
from infra.private_files import private_dir
from infra.projecting.follower import EmbeddedFollower
from infra.read_store.freshness import (
    audited,
    last_public_position,
    poll_audited,
    public_event_at_or_before,
    wait_until_audited,
)
from infra.read_store.port import Generations, ReadStore
from infra.read_store.sqlite import SQLiteReadStore
from infra.settings import Settings
from projections.registry import ALL_FOLDS
from services.api.rate_limits import RateLimits

log = logging.getLogger(__name__)

T = TypeVar("T")
PROBE_THREADS = 4  # look-ups made for waiting requests (head, audit record), at a time


class PositionBeyondHeadError(LookupError):
    """``min_position`` names a position the log has not reached: it cannot be waited for."""

    def __init__(self, position: int, head: int) -> None:
        super().__init__(f"position {position} is beyond the head {head}")
        self.position = position
        self.head = head


class TooManyWaitsError(RuntimeError):
    """As many requests as allowed are already waiting for positions."""


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
    teams: TeamService = field(init=False)
    goals: GoalService = field(init=False)
    incidents: IncidentService = field(init=False)
    feedback: FeedbackService = field(init=False)
    access: AccessService = field(init=False)
    imports: ImportService = field(init=False)
    policies: PolicyService = field(init=False)
    findings: FindingService = field(init=False)
    risks: RiskService = field(init=False)
    people: PeopleService = field(init=False)
    erasures: ErasureService | None = field(init=False)
    """None: the ledger keeps no key store (seals nothing, so erases nothing)."""
    holds: LegalHoldService | None = field(init=False)
    rate_limits: RateLimits = field(init=False)
    _waits: int = field(default=0, init=False, repr=False)
    _waits_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _probes: anyio.CapacityLimiter | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.teams = TeamService(self.ledger)
        self.goals = GoalService(self.ledger)
        self.incidents = IncidentService(self.ledger)
        self.feedback = FeedbackService(self.ledger)
        self.access = AccessService(self.ledger)
        self.imports = ImportService(self.ledger)
        self.policies = PolicyService(self.ledger)
        self.findings = FindingService(self.ledger)
        self.risks = RiskService(self.ledger)
        self.people = PeopleService(self.ledger)
        keys = key_store(self.ledger)
        self.erasures = None if keys is None else ErasureService(
            self.ledger, keys, customer_teams(self.sealed_store, keys))
        self.holds = None if keys is None else LegalHoldService(self.ledger, keys)
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
        # Readers get personal data opened; the follower folds what is stored (sealed).
        runtime = cls(settings, ledger, revealing(store, key_store(ledger)), load_tokens(settings))
        runtime.finish_erasures()
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

    def finish_erasures(self) -> None:
        """Erasures a crash interrupted: their keys already open nothing; delete them
        (or abandon those whose event was never stored)."""
        if self.erasures is None:
            return
        finished = self.erasures.finish_pending()
        for subject in finished.erased:
            log.warning("finished the erasure of %s interrupted by a crash", subject)
        for subject in finished.abandoned:
            log.warning("abandoned the erasure of %s: its event was never stored", subject)

    @property
    def sealed_store(self) -> ReadStore:
        """The read store as folds write it (personal data sealed): what a follower
        folds into; ``store`` is what readers get, personal data opened."""
        return getattr(self.store, "inner", self.store)

    def applied_position(self) -> int:
        if self.follower is not None:
            return self.follower.position
        return self.store.checkpoint(self._checkpoint_now())

    def _checkpoint_now(self) -> str:
        """The checkpoint of the generation serving now: each MongoDB generation is
        projected by its own consumer group, whose id names its checkpoint."""
        if not self.settings.distributed or not isinstance(self.store, Generations):
            return self.checkpoint_name
        _, group_suffix = self.store.active_generation()  # also moves the store to it
        return self.checkpoint_name + group_suffix

    def wait_for(self, position: int, timeout: float) -> bool:
        """Read-your-writes: wait until the read models include ``position``."""
        if self.follower is not None:
            return self.follower.wait_for(position, timeout)
        return wait_until_audited(self.ledger, self.store, position, timeout)

    @property
    def waits(self) -> int:
        """Requests awaiting a position right now."""
        return self._waits

    async def await_position(self, position: int, timeout: float) -> bool:
        """Read-your-writes for the API: like ``wait_for``, but awaited, so a wait holds
        no worker thread. A position beyond the head is refused at once
        (:class:`PositionBeyondHeadError`); a position already applied answers at once;
        beyond ``min_position_max_waiters`` concurrent waits, :class:`TooManyWaitsError`."""
        follower = self.follower
        if position <= 0 or (follower is not None and follower.position >= position):
            return True
        head = await self._probe(self.ledger.head_position)
        if position > head:
            raise PositionBeyondHeadError(position, head)
        target = ""
        if follower is None:
            target = await self._probe(public_event_at_or_before, self.ledger, position)
            if await self._audited(target):
                return True
        with self._waits_lock:
            if self._waits >= self.settings.min_position_max_waiters:
                raise TooManyWaitsError(
                    f"{self._waits} requests are already waiting for positions")
            self._waits += 1
        try:
            if follower is not None:
                return await follower.wait_for_async(position, timeout)
            return await poll_audited(lambda: self._audited(target), timeout)
        finally:
            with self._waits_lock:
                self._waits -= 1

    async def _audited(self, target: str) -> bool:
        """Distributed: the event's audit record is stored (:func:`.freshness.audited`)."""
        return target == "" or await self._probe(audited, self.store, target)

    async def _probe(self, fn: Callable[..., T], *args: object) -> T:
        """A short blocking look-up, off the event loop, in threads that never compete
        with the request handlers' pool (their limiter is another one)."""
        if self._probes is None:
            self._probes = anyio.CapacityLimiter(PROBE_THREADS)
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._probes)

    def last_public_position(self, position: int) -> int:
        """The position of the last public event at or before ``position`` (0: none);
        see :func:`infra.read_store.freshness.last_public_position`."""
        return last_public_position(self.ledger, position)

    def close(self) -> None:
        if self.follower is not None:
            self.follower.stop()
        self.store.close()
        self.ledger.close()


def default_store(settings: Settings) -> ReadStore:
    if settings.mongo_uri and settings.distributed:
        from infra.read_store.mongo import MongoReadStore

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
