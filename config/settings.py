"""One pydantic-settings class holds every setting of every LoanBridge process (env vars)."""

from __future__ import annotations

import secrets
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.install_secrets import DATA_ENCRYPTION_KEY, JWT_SECRET, install_secrets
from domain.credit_decision import RiskPolicy
from domain.exposure import ExposurePolicy


class Environment(StrEnum):
    """Where the process runs; production refuses every development default."""

    LOCAL = "local"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every knob of LoanBridge; names map to upper-case environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.LOCAL
    data_dir: Path = Field(default=Path(".loanbridge"), description="embedded services' data")

    # PostgreSQL: unset means the embedded server under data_dir.
    database_url: str | None = Field(default=None, description="postgresql+psycopg://...")
    embedded_pg_port: int = 0  # 0 = pick a free port (5432 is often taken)

    # Temporal: unset address means the embedded dev server under data_dir.
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_tls: bool = False
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_tls_server_ca: Path | None = None
    temporal_api_key: SecretStr | None = None
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    task_queue_prefix: str = "loanbridge"

    # HTTP services.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    public_base_url: str | None = None
    sandbox_port: int = 8100
    sandbox_smtp_port: int = 8125
    sandbox_url: str | None = Field(default=None, description="external providers' base URL")
    provider_timeout_s: float = 5.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int | None = None  # unset = the sandbox's SMTP sink
    mail_from: str = "LoanBridge <noreply@loanbridge.local>"
    document_dir: Path | None = None  # unset = DATA_DIR/documents
    document_render_processes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="worker processes that render PDFs (0 = a thread of the worker itself)",
    )
    document_render_nice: int = Field(
        default=10, ge=0, le=19, description="how much lower the renderers' CPU priority is"
    )
    document_render_idle: bool = Field(
        default=True,
        description="renderers in Linux's idle scheduling class: any other work preempts them",
    )
    workflow_sandbox: bool = Field(
        default=True,
        description="run workflows in the SDK's sandbox (a clock read or a random number fails "
        "the task); off in production: the sandbox costs ≈ 18 ms of CPU per application, and "
        "every workflow test and history replay runs sandboxed anyway",
    )

    # Loan servicing.
    penalty_multiplier: Decimal = Field(
        default=Decimal("1.5"), ge=0, description="penalty rate = contract rate × this"
    )
    allocation_order: str = Field(
        default="penalty,interest,principal",
        pattern=r"^(penalty|interest|principal)(,(penalty|interest|principal)){2}$",
        description="order a payment settles the parts of what is past due",
    )
    reminder_days_before: int = Field(default=3, ge=0, le=30)
    # Credit re-rating (issue 7): a downgrade of this many master-scale notches raises an alert.
    rerating_downgrade_notches: int = Field(default=2, ge=1, le=8)
    # How long a payment request waits for the bank before answering 202 "processing".
    payment_answer_wait_s: float = Field(default=10.0, ge=0.5, le=120)
    # How often a process looks for a newly promoted credit model (0: at every score).
    model_refresh_s: float = Field(default=30.0, ge=0, le=3600)
    # Risk-based pricing and limits by grade (issue 7; domain.credit_decision.RiskPolicy).
    risk_price_positions: str = Field(
        default="A:0,B:0.25,C:0.5,D:0.75,E:1",
        description="where in a product's rate range each grade is priced (0 bottom, 1 top)",
    )
    risk_revenue_caps: str = Field(
        default="A:0.30,B:0.30,C:0.30,D:0.30,E:0.30",
        description="largest amount as a fraction of annual revenue, by grade",
    )
    # Platform exposure (issue 21; domain.exposure.ExposurePolicy): an application that would
    # take the enterprise's platform exposure (lent, committed and offered by every institution)
    # above this share of its annual revenue is referred with the proposal cut to the headroom;
    # applications at this many institutions within the window are referred (多头借贷).
    exposure_cap_ratio: Decimal = Field(
        default=Decimal("0.50"),
        gt=0,
        le=10,
        description="largest platform exposure (incl. the request) as a fraction of revenue",
    )
    exposure_concurrent_institutions: int = Field(default=3, ge=2, le=100)
    exposure_window_days: int = Field(default=30, ge=1, le=365)
    # Materials (issue 22): an uploaded statement's revenue or profit differing from the tax
    # filing of its year by more than this share of the tax figure is flagged to the officer.
    statement_tax_tolerance: Decimal = Field(default=Decimal("0.10"), ge=0, le=10)
    # Transaction monitoring (issue 8): thresholds of the rules in domain/monitoring.py.
    monitoring_cycling_days: int = Field(default=7, ge=1, le=90)
    monitoring_cycling_share: Decimal = Field(default=Decimal("0.50"), gt=0, le=1)
    monitoring_structuring_threshold: Decimal = Field(default=Decimal("50000.00"), gt=0)
    monitoring_structuring_count: int = Field(default=3, ge=2, le=100)
    monitoring_structuring_days: int = Field(default=7, ge=1, le=90)
    monitoring_concentration_share: Decimal = Field(default=Decimal("0.25"), gt=0, le=1)

    # Security.
    # Empty: this data directory's own keys (config/install_secrets.py), generated at its first
    # use; production takes them from the environment only.
    jwt_secret: SecretStr = SecretStr("")
    jwt_access_ttl_s: int = 900
    jwt_refresh_ttl_s: int = 7 * 24 * 3600
    data_encryption_key: SecretStr = SecretStr("")
    data_encryption_key_id: str = "k1"
    login_max_attempts: int = 5
    login_window_s: int = 300
    # Issue 11: failures from one address (any username), lockout after repeated failures
    # (lifted after login_lockout_s or by an administrator), request body limits.
    login_max_attempts_per_ip: int = Field(default=50, ge=1)
    login_lockout_threshold: int = Field(default=10, ge=1)
    login_lockout_window_s: int = Field(default=24 * 3600, ge=1)
    login_lockout_s: int = Field(default=1800, ge=1)
    max_request_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    # Issue 28/5: anonymous registration is throttled per client address and per mobile, and
    # so are the one-time codes it texts (a registration's first code and every resend).
    registration_window_s: int = Field(default=3600, ge=1)
    registration_max_per_ip: int = Field(default=10, ge=1)
    registration_max_per_mobile: int = Field(default=3, ge=1)
    otp_send_max_per_ip: int = Field(default=20, ge=1)
    otp_send_max_per_mobile: int = Field(default=8, ge=1)

    codec_cors_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]
    forwarded_allow_ips: str = ""
    """Proxies whose ``X-Forwarded-For``/``-Proto`` are believed (comma-separated addresses,
    ``*`` for any): none by default, so a client cannot pick the address the per-address
    login limit counts by sending the header itself."""
    # Set by `loanbridge up`: while this file exists the demo is being seeded and /readyz
    # answers 503 (a platform half-way through its demo data is not ready).
    demo_seeding_flag: Path | None = None

    # Logging.
    log_level: str = "INFO"
    log_json: bool | None = None  # None = JSON unless on a terminal

    workers: int = 1

    @model_validator(mode="after")
    def _keys_of_this_install(self) -> Self:
        """Keys not given are this data directory's own, generated at its first use (never
        constants in the source); production must be given its keys."""
        configured = self.jwt_secret.get_secret_value() and (
            self.data_encryption_key.get_secret_value()
        )
        if configured or self.environment is Environment.PRODUCTION:
            return self
        kept = install_secrets(self.data_dir)
        if not self.jwt_secret.get_secret_value():
            self.jwt_secret = SecretStr(kept[JWT_SECRET])
        if not self.data_encryption_key.get_secret_value():
            self.data_encryption_key = SecretStr(kept[DATA_ENCRYPTION_KEY])
        return self

    @model_validator(mode="after")
    def _refuse_dev_defaults_in_production(self) -> Self:
        if self.environment is not Environment.PRODUCTION:
            return self
        problems = []
        if len(self.jwt_secret.get_secret_value()) < 32:
            problems.append("JWT_SECRET must be set to a secret of your own (32+ characters)")
        if not self.data_encryption_key.get_secret_value():
            problems.append("DATA_ENCRYPTION_KEY must be set to a key of your own")
        if self.database_url is None:
            problems.append("DATABASE_URL must point at a managed PostgreSQL")
        if self.temporal_address is None:
            problems.append("TEMPORAL_ADDRESS must point at a Temporal cluster")
        if self.sandbox_url is None:
            problems.append("SANDBOX_URL must point at the real providers' gateway")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _check_risk_policy(self) -> Self:
        _ = self.risk_policy  # a malformed table stops the process at start, not at scoring
        return self

    @property
    def risk_policy(self) -> RiskPolicy:
        """The risk-based price and limit rules by grade (``domain.credit_decision``)."""
        return RiskPolicy.parse(self.risk_price_positions, self.risk_revenue_caps)

    @property
    def exposure_policy(self) -> ExposurePolicy:
        """The aggregate exposure cap and the multiple-borrowing rule (``domain.exposure``)."""
        return ExposurePolicy(
            cap_ratio=self.exposure_cap_ratio,
            concurrent_institutions=self.exposure_concurrent_institutions,
            window_days=self.exposure_window_days,
        )

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    @property
    def effective_sandbox_url(self) -> str:
        return self.sandbox_url or f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def effective_public_url(self) -> str:
        return self.public_base_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def effective_smtp_port(self) -> int:
        return self.smtp_port or self.sandbox_smtp_port

    @property
    def effective_document_dir(self) -> Path:
        return self.document_dir or self.data_dir / "documents"

    def task_queue(self, name: str) -> str:
        return f"{self.task_queue_prefix}-{name}"


def random_secret() -> str:
    """A fresh secret suitable for JWT_SECRET."""
    return secrets.token_urlsafe(48)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process (tests build their own ``Settings`` instead)."""
    return Settings()
