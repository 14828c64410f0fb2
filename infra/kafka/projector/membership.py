"""The projector's consumer-group membership: rebalance callbacks, whether the group is
stable with us in it, and leaving the group as a static member.

:func:`still_member` is the one place the projector reads a kafka-python internal
(the consumer's coordinator): kafka-python has no public way to ask.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, TopicPartition
from kafka.admin import MemberToRemove
from kafka.errors import KafkaError, NoError

log = logging.getLogger(__name__)

Partitions = Callable[[set[TopicPartition]], None]


class RebalanceListener(ConsumerRebalanceListener):
    """Hands kafka-python's rebalance callbacks (run inside ``poll``) to the projector."""

    def __init__(self, on_revoked: Partitions, on_assigned: Partitions) -> None:
        self.on_revoked = on_revoked
        self.on_assigned = on_assigned

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.on_revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.on_assigned(set(assigned))


def still_member(consumer: KafkaConsumer) -> bool:
    """Whether the group is stable with ``consumer`` in it, so its partitions are its own."""
    coordinator = getattr(consumer, "_coordinator", None)
    if coordinator is None:  # pragma: no cover - kafka-python internals moved
        return True
    return coordinator.generation_if_stable() is not None and not coordinator.need_rejoin()


def leave_as_static_member(bootstrap: str, client_id: str, group_id: str,
                           group_instance_id: str, member_id: str | None) -> None:
    """Remove a static member from the group, so its partitions move now rather than
    after the session timeout. With its member id too: a newer process that took the
    same instance id over is not removed (the broker fences the request)."""
    try:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap,
                                 client_id=f"{client_id}-leave",
                                 request_timeout_ms=10_000)
    except KafkaError as e:
        log.warning("projector %s: could not leave the group as %s (%s); its partitions "
                    "move when the session times out", group_id, group_instance_id, e)
        return
    try:
        results = admin.remove_group_members(group_id, [MemberToRemove(
            member_id=member_id or None, group_instance_id=group_instance_id,
            reason="projector stopped")])
        errors = [e for e in results.values() if e is not NoError]
        if errors:
            log.info("projector %s: leaving as %s: %s", group_id, group_instance_id,
                     errors[0].__name__)
        else:
            log.info("projector %s: left the group as static member %s", group_id,
                     group_instance_id)
    except KafkaError as e:
        log.warning("projector %s: could not leave the group as %s (%s); its partitions "
                    "move when the session times out", group_id, group_instance_id, e)
    finally:
        admin.close()
