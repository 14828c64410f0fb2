"""Named domain errors; the API maps each family to one HTTP status in one place."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a domain rule (HTTP 409)."""


class NotFoundError(DomainError):
    """The command names an aggregate that does not exist (HTTP 404)."""


class OutOfScopeError(DomainError):
    """The command's aggregate belongs to a team the caller may not act on (HTTP 403)."""


class ConcurrencyError(DomainError):
    """Another command changed the aggregate first (HTTP 409)."""


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
