"""Which fields of an event are personal data, and whose.

An event class declares them next to its fields, as ``PERSONAL``: each personal field
(a dotted path for a field inside an object, e.g. ``customer.email``) maps to the
:class:`Subject` it belongs to, named by another field of the same event (the member's
``member_id``, the feedback's ``subject_member_id``, the customer's ``customer.email``).

A member's personal data is their name, their email and the principal bound to them
(``user:<name>``, which often spells a name). The principal also stays, in clear, as
the ``actor`` of every event that member recorded: accountability needs it, so
principals should be pseudonymous (``user:u-1042``); see the README.

The domain only declares. Encrypting the fields under a key per data subject, and
erasing a subject by deleting its key, happen in ``infra/personal/`` where events are
stored and read back; the published schemas mark the fields (``x-personal-data``).
A declared field whose subject field is empty on an event (customer feedback that names
no customer) holds no one's personal data there and stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Final, Literal

SubjectKind = Literal["member", "customer"]

ERASED: Final = "[erased]"
"""What a personal field reads as once its subject's key is gone."""


@dataclass(frozen=True)
class Subject:
    """A kind of data subject, and the event field (dotted path) that names which one."""

    kind: SubjectKind
    field: str


MEMBER = Subject("member", "member_id")
"""The member an event of the teams context is about."""
MEMBER_RECORD = Subject("member", "originator_id")
"""The member a write-side directory record is about (the record's id is the member id)."""
FEEDBACK_SUBJECT = Subject("member", "subject_member_id")
"""The member peer or manager feedback is about."""
CUSTOMER = Subject("customer", "customer.email")
"""The customer who gave feedback, known by the email they gave."""

Personal = Mapping[str, Subject]
"""A declaration: personal field (dotted path) to its subject."""


def personal_fields(event_class: type) -> Personal:
    """``event_class``'s declaration (empty: it holds no personal data)."""
    declared: Personal = getattr(event_class, "PERSONAL", {})
    return declared


def value_at(data: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of an event's data (None where any part is missing)."""
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def put_at(data: MutableMapping[str, Any], path: str, value: Any) -> None:
    """Set the value at a dotted ``path`` whose parents exist (see :func:`value_at`)."""
    *parents, last = path.split(".")
    for part in parents:
        data = data[part]
    data[last] = value
