"""Signed checkpoints: the chain head (position, hash) signed with the deployment's
Ed25519 key, so an auditor can later prove nothing before it was rewritten or cut.

The private key is generated on first use in ``<data>/keys/`` (mode 0600); the public
key can be exported and kept by the auditor. Verification uses the key the auditor
trusts, never one carried inside the checkpoint file.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

KEY_FILE = "checkpoint-ed25519.pem"


class CheckpointError(ValueError):
    """A checkpoint file is malformed or its signature does not verify."""


def key_path(data_dir: Path) -> Path:
    return data_dir / "keys" / KEY_FILE


def signing_key(data_dir: Path) -> Ed25519PrivateKey:
    path = key_path(data_dir)
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(f"{path} is not an Ed25519 private key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def public_key_pem(data_dir: Path) -> str:
    return signing_key(data_dir).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode()


def load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("not an Ed25519 public key")
    return key


def _signed_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: str
    signed_at: str

    def body(self) -> dict[str, Any]:
        return {"position": self.position, "hash": self.hash, "signed_at": self.signed_at}


SIGNATURE_FIELDS = ("algorithm", "signature", "public_key")
"""What signing adds to a document; every other field is signed."""


def sign_document(data_dir: Path, body: dict[str, Any]) -> dict[str, Any]:
    """``body`` (JSON values) with an Ed25519 signature over all of it, made with the
    deployment's key in ``data_dir``, and that key's public half for reference."""
    signature = signing_key(data_dir).sign(_signed_bytes(body))
    return {**body, "algorithm": "Ed25519", "signature": base64.b64encode(signature).decode(),
            "public_key": public_key_pem(data_dir)}


def verified_body(document: dict[str, Any], public_key: Ed25519PublicKey) -> dict[str, Any]:
    """The signed fields of a :func:`sign_document` document, once its signature
    verifies with ``public_key`` (the one the verifier trusts, not the one it carries)."""
    body = {k: v for k, v in document.items() if k not in SIGNATURE_FIELDS}
    try:
        signature = base64.b64decode(document["signature"], validate=True)
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"malformed signature: {e}") from None
    try:
        public_key.verify(signature, _signed_bytes(body))
    except InvalidSignature:
        raise CheckpointError("the signature does not verify with the trusted public "
                              "key: the document was altered, or signed by another key") from None
    return body


def sign_checkpoint(data_dir: Path, position: int, head_hash: str) -> dict[str, Any]:
    checkpoint = Checkpoint(position, head_hash, datetime.now(UTC).isoformat())
    return sign_document(data_dir, checkpoint.body())


def read_checkpoint(document: dict[str, Any], public_key: Ed25519PublicKey) -> Checkpoint:
    try:
        checkpoint = Checkpoint(int(document["position"]), str(document["hash"]),
                                str(document["signed_at"]))
        signature = base64.b64decode(document["signature"])
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"malformed checkpoint: {e}") from None
    try:
        public_key.verify(signature, _signed_bytes(checkpoint.body()))
    except InvalidSignature:
        raise CheckpointError("the checkpoint's signature does not verify with the "
                              "trusted public key") from None
    return checkpoint
