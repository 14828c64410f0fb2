"""One personal value, sealed: ``pii:v1:<kind>:<id>:<base64url(nonce || ciphertext)>``.

AES-256-GCM (``cryptography``), a random 96-bit nonce per value, the subject
(``<kind>:<id>``) as associated data, so a sealed value cannot be passed off as another
subject's. The string says whose key opens it, so anything holding a document can find
its sealed values without knowing the event's schema.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pii:v1:"
NONCE_BYTES = 12
KEY_BYTES = 32
SEALED_TEXT = r"pii:v1:(member|customer):([0-9a-f-]{36}):([A-Za-z0-9_-]+)"
SEALED = re.compile(f"^{SEALED_TEXT}$")
WITHIN = re.compile(SEALED_TEXT)
"""A sealed value inside a longer text: a fold may have written one into a sentence
(the timeline's "<name> joined as SRE")."""


class UnreadableSealError(ValueError):
    """A sealed value that its own key does not open: altered, or not ours."""


@dataclass(frozen=True)
class Sealed:
    subject: str
    """``<kind>:<id>``: whose key opens it."""
    payload: bytes


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def holds_sealed_value(text: str) -> bool:
    """Whether ``text`` holds a sealed value anywhere. Readers open every sealed value
    they find, wherever it is, so one copied into a field that is not personal data
    (from the events feed, say) would be opened for whoever reads that field: input
    that holds one is refused (``services/api/models/common.py``)."""
    return WITHIN.search(text) is not None


def parse(value: str) -> Sealed:
    match = SEALED.match(value)
    if match is None:
        raise UnreadableSealError(f"not a sealed value: {value!r}")
    padded = match.group(3) + "=" * (-len(match.group(3)) % 4)
    try:
        payload = base64.urlsafe_b64decode(padded)
    except binascii.Error:  # a length no encoder writes: not a value we sealed
        raise UnreadableSealError(f"not a sealed value: {value!r}") from None
    return Sealed(f"{match.group(1)}:{match.group(2)}", payload)


def seal(subject: str, key: bytes, plaintext: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext.encode(), subject.encode())
    text = base64.urlsafe_b64encode(nonce + ciphertext).decode().rstrip("=")
    return f"{PREFIX}{subject}:{text}"


def unseal(sealed: Sealed, key: bytes) -> str:
    nonce, ciphertext = sealed.payload[:NONCE_BYTES], sealed.payload[NONCE_BYTES:]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, sealed.subject.encode()).decode()
    except InvalidTag:
        raise UnreadableSealError(f"a value sealed for {sealed.subject} does not open "
                                  "with its key") from None
