"""A policy of a team (code of conduct, on-call, data handling): its versions, each a
document (a link) and the SHA-256 of its content, and each member's acknowledgement
of a version.

A policy is known by its team and title: publishing a title the team already has
publishes a new version of that policy, which supersedes the one before. Members
acknowledge the version in force; a superseded version can no longer be acknowledged.
A version's label is free text ("2", "2026-03", "v1.1"), each once per policy, and a
new version must change the document (its SHA-256). Every event names the policy's
team (``team_id``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from uuid import NAMESPACE_URL, UUID, uuid5

from domain.aggregate import LedgerAggregate, require
from domain.errors import DomainError, ValidationError
from domain.meta import CommandMeta

POLICY_NAMESPACE = uuid5(NAMESPACE_URL, "https://opsledger.dev/people/policy")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
LINK = re.compile(r"^https?://[^\s]{1,2000}$")
"""A link to a document or to evidence: http(s), no spaces."""
MAX_VERSION = 50


def policy_id_of(team_id: UUID, title: str) -> UUID:
    """A policy's id: its team and its title (case and spacing aside)."""
    return uuid5(POLICY_NAMESPACE, f"{team_id}\n{' '.join(title.split()).casefold()}")


def link(value: str, what: str) -> str:
    value = value.strip()
    if not LINK.match(value):
        raise ValidationError(f"{what} must be an http(s) link, got {value[:80]!r}")
    return value


class Policy(LedgerAggregate):
    CONTEXT = "people"

    if TYPE_CHECKING:  # state, not __init__ parameters (the metaclass reads annotations)
        team_id: str
        title: str
        version_label: str
        versions: dict[str, str]  # version -> sha256
        acknowledged: set[tuple[str, str]]  # (member id, version)

    class PolicyPublished(LedgerAggregate.Created):
        """The first version of a team's policy."""

        team_id: str
        title: str
        version: str
        document: str
        sha256: str

        def apply(self, policy: Policy) -> None:
            policy.team_id = self.team_id
            policy.title = self.title
            policy.version_label = self.version
            policy.versions = {self.version: self.sha256}
            policy.acknowledged = set()

    class PolicyVersionPublished(LedgerAggregate.Event):
        """A new version of the policy; it supersedes ``supersedes``."""

        team_id: str
        version: str
        document: str
        sha256: str
        supersedes: str

        def apply(self, policy: Policy) -> None:
            policy.version_label = self.version
            policy.versions[self.version] = self.sha256

    class PolicyAcknowledged(LedgerAggregate.Event):
        """A member acknowledged (read and accepted) ``version`` of the policy."""

        team_id: str
        member_id: str
        version: str

        def apply(self, policy: Policy) -> None:
            policy.acknowledged.add((self.member_id, self.version))

    def owning_team(self) -> str | None:
        return self.team_id

    def describe(self) -> str:
        return f"policy {self.id}"

    # -- commands -------------------------------------------------------------

    @classmethod
    def publish(cls, team_id: UUID, title: str, version: str, document: str, sha256: str,
                meta: CommandMeta) -> Policy:
        title = " ".join(title.split())
        require(bool(title), "a policy needs a title")
        return cls._start(cls.PolicyPublished, policy_id_of(team_id, title), meta,
                          team_id=str(team_id), title=title, **_version(version, document,
                                                                         sha256))

    def publish_version(self, version: str, document: str, sha256: str,
                        meta: CommandMeta) -> None:
        data = _version(version, document, sha256)
        require(data["version"] not in self.versions,
                f"version {data['version']} of policy {self.id} is already published")
        same = [v for v, digest in self.versions.items() if digest == data["sha256"]]
        require(not same, f"this document (sha256 {data['sha256'][:12]}...) is already "
                          f"version {', '.join(same)} of policy {self.id}: a new version "
                          "changes the document")
        self._record(self.PolicyVersionPublished, meta, team_id=self.team_id,
                     supersedes=self.version_label, **data)

    def acknowledge(self, member_id: UUID, version: str, meta: CommandMeta) -> None:
        version = version.strip()
        if version not in self.versions:
            raise ValidationError(f"policy {self.id} has no version {version!r}; its "
                                  f"current version is {self.version_label}")
        if version != self.version_label:
            raise DomainError(f"version {version} of policy {self.id} is superseded by "
                              f"version {self.version_label}: acknowledge that one")
        require((str(member_id), version) not in self.acknowledged,
                f"member {member_id} already acknowledged version {version} of policy "
                f"{self.id}")
        self._record(self.PolicyAcknowledged, meta, team_id=self.team_id,
                     member_id=str(member_id), version=version)


def _version(version: str, document: str, sha256: str) -> dict[str, str]:
    version = version.strip()
    if not version or len(version) > MAX_VERSION:
        raise ValidationError(f"a policy version is 1 to {MAX_VERSION} characters")
    digest = sha256.strip().lower()
    if not SHA256.match(digest):
        raise ValidationError("sha256 must be the 64 hexadecimal digits of the document's "
                              "SHA-256")
    return {"version": version, "document": link(document, "document"), "sha256": digest}
