"""Blue/green rebuild of the live MongoDB read models (distributed mode), no downtime.

1. A new generation is named: collections ``g<UTC yyyymmddhhmmss>_<collection>`` and
   consumer group ``<projector_group>-g<same stamp>`` (a few random hex digits are
   added when the name is taken). Leftovers of that name are dropped.
2. A :class:`~infra.kafka.projector.Projector` of the new group, which has no
   committed offsets and so reads every event topic from offset 0, folds everything
   into the new collections, while the old generation keeps serving and the live
   projectors keep it current.
3. When the new group's lag is 0, the pointer document is switched (one
   single-document write: atomic without transactions; see
   :mod:`infra.read_store.mongo_generations`). Readers follow it within about a second.
4. The rebuild's projector keeps the new generation current for a grace period,
   while the live projectors (:mod:`services.projector`) notice the switch and join
   the new group, resuming from the offsets the rebuild committed there.
5. The old generation is dropped once its consumer group has no member left (a
   bounded wait; if a projector stays on it, it is kept and the summary says why),
   and its consumer group's offsets are deleted with it.

If anything fails before the switch, the half-built generation and its group are
removed and the old generation serves on, untouched.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from pymongo.errors import PyMongoError

from infra.kafka.projector import Projector
from infra.kafka.projector.lag import group_lag
from infra.kafka.projector.poison import TransientFailureError
from infra.kafka.topics import Topics
from infra.read_store.mongo import MongoReadStore
from infra.read_store.mongo_generations import GenerationError
from infra.settings import Settings
from projections.registry import ALL_FOLDS

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (records folded so far, records the new group has still to fold)."""
Notify = Callable[[str], None]
"""Called with a line about each step after the build (the switch, the wait, the drop)."""

LAG_CHECK_SECONDS = 0.5
_NAME_ATTEMPTS = 5


class RebuildError(RuntimeError):
    """The rebuild could not finish; the old generation still serves."""


@dataclass(frozen=True)
class RebuildSummary:
    events: int
    """Records folded into the new generation before the switch."""
    seconds: float
    """From the start to the switch."""
    prefix: str
    group: str
    old_prefix: str
    old_group: str
    dropped: list[str] = field(default_factory=list)
    """Collections of the old generation that were dropped."""
    kept_reason: str | None = None
    """Why the old generation was kept (``None`` when it was dropped)."""

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Generation:
    prefix: str
    group_suffix: str
    group: str


def rebuild_distributed(
    settings: Settings, *, progress: Progress | None = None, notify: Notify | None = None,
    drop_old: bool = True, grace_seconds: float = 10.0, drain_timeout: float = 60.0,
    stall_timeout: float = 300.0,
) -> RebuildSummary:
    """Rebuild the live read models into a new generation and switch to it.

    ``grace_seconds``: how long after the switch the rebuild keeps projecting (so
    the new generation stays current while readers and projectors move over) before
    it drops the old generation. ``drain_timeout``: how long it then waits for the
    old consumer group to empty. ``stall_timeout``: how long the build may go
    without folding a record while it still has some to fold.
    Raises :class:`RebuildError`; the old generation then serves on.
    """
    live, admin = _connect(settings)
    topics = Topics(settings.kafka_topic_prefix)
    try:
        try:
            _require_topics(admin, topics)
            old_prefix, old_suffix = live.active_generation()
            new = _new_generation(live, admin, settings.projector_group, old_prefix)
        except (KafkaError, PyMongoError) as e:
            raise RebuildError(f"{type(e).__name__}: {e}") from e
        events, seconds = _build_and_switch(
            settings, topics, admin, live, new, old_prefix, progress, notify or log.info,
            grace_seconds=grace_seconds, stall_timeout=stall_timeout)
        summary = RebuildSummary(events, seconds, new.prefix, new.group, old_prefix,
                                 settings.projector_group + old_suffix)
        if not drop_old:
            return replace(summary, kept_reason="kept on request")
        return _retire(live, admin, summary, drain_timeout, notify or log.info)
    finally:
        admin.close()
        live.close()


def _connect(settings: Settings) -> tuple[MongoReadStore, KafkaAdminClient]:
    if not (settings.kafka_bootstrap and settings.mongo_uri):
        raise RebuildError("the distributed rebuild needs OPSLEDGER_KAFKA_BOOTSTRAP and "
                           "OPSLEDGER_MONGO_URI")
    try:
        live = MongoReadStore(settings.mongo_uri, settings.mongo_db)
    except PyMongoError as e:
        raise RebuildError(f"MongoDB not reachable ({type(e).__name__}: {e})") from e
    try:
        admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap,
                                 client_id="opsledger-rebuild")
    except KafkaError as e:
        live.close()
        raise RebuildError(f"Kafka at {settings.kafka_bootstrap} not reachable "
                           f"({type(e).__name__}: {e})") from e
    return live, admin


def _require_topics(admin: KafkaAdminClient, topics: Topics) -> None:
    missing = [t["name"] for t in admin.describe_topics(list(topics.event_topics))
               if t.get("error_code") or not t.get("partitions")]
    if missing:
        raise RebuildError(f"event topic(s) missing: {', '.join(missing)} (is "
                           "OPSLEDGER_KAFKA_TOPIC_PREFIX right? has the relay run?)")


def _new_generation(live: MongoReadStore, admin: KafkaAdminClient, group_base: str,
                    active: str) -> _Generation:
    """A generation name nobody uses: not the active one, and a consumer group with
    no committed offsets (else the build would skip what that group once read)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    for attempt in range(_NAME_ATTEMPTS):
        tail = secrets.token_hex(2) if attempt else ""
        name = f"g{stamp}{tail}"
        new = _Generation(f"{name}_", f"-{name}", f"{group_base}-{name}")
        if new.prefix == active or _has_offsets(admin, new.group):
            continue
        leftovers = live.drop_generation(new.prefix)
        if leftovers:
            log.info("dropped %d leftover collection(s) of %s", len(leftovers), new.prefix)
        return new
    raise RebuildError(f"no free generation name after {_NAME_ATTEMPTS} attempts")


def _has_offsets(admin: KafkaAdminClient, group: str) -> bool:
    return bool(admin.list_group_offsets(group).get(group))


def _build_and_switch(
    settings: Settings, topics: Topics, admin: KafkaAdminClient, live: MongoReadStore,
    new: _Generation, old_prefix: str, progress: Progress | None, notify: Notify, *,
    grace_seconds: float, stall_timeout: float,
) -> tuple[int, float]:
    """Build the new generation, switch to it, keep it current for the grace period;
    (records folded, seconds) up to the switch. On any failure before the switch,
    the new generation and its group are removed again."""
    started = time.monotonic()
    switched = False
    projector: Projector | None = None
    build: MongoReadStore | None = None
    try:
        build = MongoReadStore(settings.mongo_uri or "", settings.mongo_db,
                               prefix=new.prefix, client=live.client)
        projector = Projector(settings.kafka_bootstrap or "", topics, build, ALL_FOLDS,
                              group_id=new.group, batch_size=settings.projector_batch)
        _catch_up(projector, lambda: group_lag(projector.bootstrap, topics, new.group, admin),
                  progress, stall_timeout)
        events, seconds = projector.stats.records, time.monotonic() - started
        live.switch_generation(new.prefix, new.group_suffix, expected_prefix=old_prefix)
        switched = True
        notify(f"switched to generation {new.prefix!r}; keeping it current for "
               f"{grace_seconds:.0f}s while readers and projectors move over")
        _keep_current(projector, grace_seconds)
        return events, seconds
    except Exception as e:
        if switched or isinstance(e, RebuildError):
            raise
        raise RebuildError(f"{type(e).__name__}: {e}") from e
    finally:
        if projector is not None:
            projector.close()
        if build is not None:
            build.close()
        if not switched:
            _abandon(live, admin, new)


def _catch_up(projector: Projector, lag_of: Callable[[], int], progress: Progress | None,
              stall_timeout: float) -> None:
    """Project until the group's lag is 0; :class:`RebuildError` if nothing is folded
    for ``stall_timeout`` seconds while records are still waiting."""
    lag: int | None = None
    next_check = 0.0
    records = projector.stats.records
    moved_at = time.monotonic()
    while True:
        _turn(projector)
        now = time.monotonic()
        if projector.stats.records != records:
            records, moved_at = projector.stats.records, now
        if now >= next_check:
            next_check = now + LAG_CHECK_SECONDS
            lag = _lag_or_none(lag_of)
            if lag is not None and progress is not None:
                progress(projector.stats.records, lag)
            if lag == 0:
                return
        if now - moved_at > stall_timeout:
            raise RebuildError(
                f"the build folded nothing for {stall_timeout:.0f}s with lag {lag} "
                f"(last error: {projector.stats.last_error or 'none'})")


def _lag_or_none(lag_of: Callable[[], int]) -> int | None:
    try:
        return lag_of()
    except KafkaError as e:  # a broker hiccup: ask again next time, the stall check bounds it
        log.warning("group lag unknown (%s: %s)", type(e).__name__, e)
        return None


def _turn(projector: Projector) -> None:
    """One batch; store or dead-letter outages are retried with the same batch later."""
    try:
        projector.run_once()
    except TransientFailureError as e:
        log.warning("rebuild projector %s: %s; retrying", projector.group_id, e)
        time.sleep(0.5)


def _keep_current(projector: Projector, seconds: float) -> None:
    """Project for ``seconds`` more. The switch is done: a failure here only leaves
    the catching up to the live projectors, so it is logged, not raised."""
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            _turn(projector)
    except Exception as e:
        log.warning("rebuild projector %s stopped early after the switch (%s: %s); the "
                    "live projectors catch up", projector.group_id, type(e).__name__, e)


def _abandon(live: MongoReadStore, admin: KafkaAdminClient, new: _Generation) -> None:
    """Remove a generation that never served (best effort: the error that got us
    here is the one to report)."""
    try:
        dropped = live.drop_generation(new.prefix)
        log.info("removed the unfinished generation %s (%d collections)", new.prefix,
                 len(dropped))
    except Exception as e:
        log.warning("could not drop the unfinished generation %s: %s", new.prefix, e)
    _delete_group(admin, new.group)


def _delete_group(admin: KafkaAdminClient, group: str) -> bool:
    try:
        error = admin.delete_groups([group]).get(group)
    except KafkaError as e:
        error = f"{type(e).__name__}: {e}"
    if error and "GroupIdNotFound" not in str(error):
        log.warning("consumer group %s kept: %s", group, error)
        return False
    return True


def _retire(live: MongoReadStore, admin: KafkaAdminClient, summary: RebuildSummary,
            drain_timeout: float, notify: Notify) -> RebuildSummary:
    """Drop the old generation once no projector is left in its group."""
    notify(f"waiting (up to {drain_timeout:.0f}s) for the projectors to leave group "
           f"{summary.old_group}")
    left = _members_after(admin, summary.old_group, drain_timeout)
    if left is None or left > 0:
        who = "an unknown number of" if left is None else str(left)
        return replace(summary, kept_reason=(
            f"{who} projector(s) still in group {summary.old_group} after "
            f"{drain_timeout:.0f}s (one without generation support, or Kafka unreachable)"))
    try:
        dropped = live.drop_generation(summary.old_prefix)
    except (GenerationError, PyMongoError) as e:  # the switch stands either way
        return replace(summary, kept_reason=f"dropping failed: {type(e).__name__}: {e}")
    _delete_group(admin, summary.old_group)
    return replace(summary, dropped=dropped)


def _members_after(admin: KafkaAdminClient, group: str, timeout: float) -> int | None:
    """Members in ``group`` once it is empty (0) or ``timeout`` passed (None: unknown)."""
    deadline = time.monotonic() + timeout
    while True:
        members: int | None
        try:
            described = admin.describe_groups([group]).get(group, {})
            members = len(described.get("members") or [])
        except KafkaError as e:
            log.warning("cannot describe group %s (%s); asking again", group, e)
            members = None
        if members == 0 or time.monotonic() >= deadline:
            return members
        time.sleep(0.5)
