"""Tables of the compliance audit: decision-log checkpoints, retention runs and erasures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, CreatedAt, UuidPrimaryKey


class DecisionLogCheckpoint(Base):
    """The head of the decision log as a verification saw it: a later deletion or rewrite of
    the newest rows, which the hash links alone cannot reveal, no longer matches it."""

    __tablename__ = "decision_log_checkpoint"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int]
    taken_at: Mapped[datetime]
    taken_by: Mapped[str] = mapped_column(String(100))


class RetentionRun(UuidPrimaryKey, CreatedAt, Base):
    """One application of the retention rules: what each rule removed or erased."""

    __tablename__ = "retention_run"

    run_key: Mapped[str] = mapped_column(String(200), unique=True)
    as_of: Mapped[date]
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    chain_intact: Mapped[bool]
    decision_seq: Mapped[int | None] = mapped_column(BigInteger)


class RetentionErasure(Base):
    """A record whose personal fields were erased (once each), and by which rule."""

    __tablename__ = "retention_erasure"
    __table_args__ = (UniqueConstraint("record_type", "record_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(48))
    erased_at: Mapped[datetime]
