"""Erasure of personal data: the bodies of its two commands."""

from __future__ import annotations

from services.api.models.common import CommandBody, Email, Reason


class PersonalDataErase(CommandBody):
    """Why a member's personal data is erased. Say why without naming anyone: the
    reason is kept forever, in plaintext, like every reason."""

    reason: Reason


class CustomerErase(CommandBody):
    """The customer, by the email address their feedback named, and why."""

    email: Email
    reason: Reason
