"""One typed settings object, read from ``OPSLEDGER_*`` environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.privacy.retention import RetentionPeriods
from projections.control_policies import Thresholds


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPSLEDGER_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="event store and embedded read models")
    host: str = "127.0.0.1"
    port: int = 8000
    tokens: str | None = Field(default=None, description="JSON map of bearer token to grant")
    tokens_file: Path | None = None
    kafka_bootstrap: str | None = None
    mongo_uri: str | None = None
    mongo_db: str = "opsledger"
    kafka_topic_prefix: str = "opsledger"
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    relay_batch: int = 2000
    # Encodes stored events straight into Kafka's record format and appends them to
    # kafka-python 3.0's record batches (~2x throughput); false: send() per record.
    relay_fast_path: bool = True
    projector_batch: int = 2000
    projector_group: str = "opsledger-projector"
    # Group membership: a projector that dies without leaving (kill -9, a lost host)
    # keeps its partitions until its session times out; a restart resumes then.
    projector_session_timeout_ms: int = 10_000
    projector_heartbeat_interval_ms: int = 2_000
    # Static membership: a stable id per projector replica (a pod or unit name), unique
    # in the group. A restart with the same id takes its partitions back at once.
    projector_instance_id: str | None = None
    max_body_bytes: int = 1024 * 1024
    min_position_timeout: float = 5.0
    # Failed authentications (401s with a credential) per client address per window;
    # beyond it every request from that address is answered 429 until the window
    # frees a slot. 0: no limit.
    auth_failure_limit: int = Field(default=20, ge=0)
    auth_failure_window_seconds: int = Field(default=60, ge=1)
    # Requests per token per window (every authenticated request counts). 0: off.
    token_request_limit: int = Field(default=0, ge=0)
    token_request_window_seconds: int = Field(default=60, ge=1)
    # Requests waiting for min_position at once; more answer 503 with Retry-After.
    min_position_max_waiters: int = Field(default=64, ge=1)
    follower_batch: int = 500
    sev1_ack_minutes: int = 15
    sev2_ack_minutes: int = 60
    postmortem_working_days: int = 5
    # An event recorded longer than this after it happened, outside an import run,
    # is a backdated_entry finding.
    backdate_tolerance_minutes: int = Field(default=60, ge=0)
    # A risk whose residual score is at least this, untreated this many days, is a
    # high_risk_untreated finding.
    untreated_min_score: int = Field(default=15, ge=1)
    untreated_days: int = Field(default=14, ge=1)
    # A plan for a risk whose residual score is at least this, without a drill in this
    # many days, is a plan_not_exercised finding.
    exercise_min_score: int = Field(default=15, ge=1)
    exercise_interval_days: int = Field(default=180, ge=1)
    # A member who has not acknowledged a policy version this many days after its
    # publication (or after joining the team) is a policy_unacknowledged finding.
    acknowledge_days: int = Field(default=14, ge=1)

    # Retention of personal data, per kind, in days (unset or empty: kept, no retention;
    # docs/API.md, "Retention"): customers' identities on customer feedback, counted
    # from their latest feedback; members' names and emails (and the peer and manager
    # feedback about them, sealed under the same key), counted from when they left.
    retention_customer_days: int | None = Field(default=None, ge=1)
    retention_member_days: int | None = Field(default=None, ge=1)

    @field_validator("retention_customer_days", "retention_member_days", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    def retention_periods(self) -> RetentionPeriods:
        return RetentionPeriods(customer_days=self.retention_customer_days,
                                member_days=self.retention_member_days)

    def control_thresholds(self) -> Thresholds:
        return Thresholds(
            sev1_ack_minutes=self.sev1_ack_minutes,
            sev2_ack_minutes=self.sev2_ack_minutes,
            postmortem_working_days=self.postmortem_working_days,
            backdate_tolerance_minutes=self.backdate_tolerance_minutes,
            untreated_min_score=self.untreated_min_score,
            untreated_days=self.untreated_days,
            exercise_min_score=self.exercise_min_score,
            exercise_interval_days=self.exercise_interval_days,
            acknowledge_days=self.acknowledge_days,
        )

    @property
    def distributed(self) -> bool:
        return bool(self.kafka_bootstrap and self.mongo_uri)

    @property
    def event_store_path(self) -> Path:
        return self.data_dir / "events.sqlite"

    @property
    def read_store_path(self) -> Path:
        return self.data_dir / "readmodels.sqlite"

    @property
    def key_store_path(self) -> Path:
        """The data subjects' keys (``infra/personal/keys.py``), beside the event store."""
        return self.data_dir / "keys.sqlite"
