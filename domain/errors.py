"""Named domain errors; the API maps each family to one HTTP status in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command broke a domain rule (HTTP 409).

    ``details`` are facts a client can act on without parsing the message (the API
    adds them to the problem document as extension members)."""

    def __init__(self, message: str = "", **details: Any) -> None:
        super().__init__(message)
        self.details = details


class NotFoundError(DomainError):
    """The command names an aggregate that does not exist (HTTP 404)."""


class OutOfScopeError(DomainError):
    """The command's aggregate belongs to a team the caller may not act on (HTTP 403)."""


class ConcurrencyError(DomainError):
    """Another command changed the aggregate first (HTTP 409)."""


class OutOfOrderError(DomainError):
    """A change said to have happened before what the ledger already records of the
    same aggregate, or in an order that cannot be (HTTP 409)."""


class StaleVersionError(DomainError):
    """``If-Match`` named a version that is no longer current (HTTP 412)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, current version is {actual}")
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReusedError(DomainError):
    """An ``Idempotency-Key`` came back with a different request (HTTP 422)."""


class ValidationError(DomainError):
    """A value is malformed in a way only the domain can tell (HTTP 422)."""
