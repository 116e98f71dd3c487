"""Tables of account security: lock and unlock events that bound the failed-login counters."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base
from db.models import LoginAttempt


class AccountLockEvent(Base):
    """An account locked after too many failed logins, or unlocked by an administrator.

    Failed logins are counted since the account's latest unlock, so an unlock really resets
    the counters while every attempt stays on record in ``login_attempt``.
    """

    __tablename__ = "account_lock_event"
    __table_args__ = (Index("ix_account_lock_event_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # locked, unlocked
    at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
    actor: Mapped[str] = mapped_column(String(100), default="")  # user:<id>, cli, login


# Spraying many usernames from one address is limited too (``LoginGuardRepository``).
Index("ix_login_attempt_client_ip_at", LoginAttempt.client_ip, LoginAttempt.at)


class IdempotencyKey(Base):
    """An Idempotency-Key a client sent, bound to the digest of the request it came with."""

    __tablename__ = "idempotency_key"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)  # operation + resource
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class RegistrationAttempt(Base):
    """A registration or a one-time code texted, kept to throttle anonymous registration per
    client address and per mobile (keyed hash) across every API process (issue 28/5)."""

    __tablename__ = "registration_attempt"
    __table_args__ = (
        Index("ix_registration_attempt_ip", "kind", "client_ip", "at"),
        Index("ix_registration_attempt_mobile", "kind", "mobile_hash", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # registration, code_sent
    client_ip: Mapped[str] = mapped_column(String(64), default="")
    mobile_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
