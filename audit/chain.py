"""Verify the hash-chained decision log end to end against the checkpoints taken before."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models_audit import DecisionLogCheckpoint
from db.repositories import DecisionLog
from domain.decision_chain import Anchor, ChainAudit, audit_chain


class FindingOut(BaseModel):
    """A break: where (position in the chain, the row's seq), what kind, and a note."""

    position: int
    seq: int
    kind: str
    detail: str


class ChainReport(BaseModel):
    """The verification's answer, as the API, the CLI and the retention job report it."""

    intact: bool
    entries: int
    head_seq: int | None
    head_hash: str
    checkpoints_checked: int
    findings: list[FindingOut]
    verified_at: datetime
    checkpoint_recorded: bool = False


def report_of(audit: ChainAudit, checkpoints: int, at: datetime) -> ChainReport:
    return ChainReport(
        intact=audit.intact,
        entries=audit.entries,
        head_seq=audit.head_seq,
        head_hash=audit.head_hash,
        checkpoints_checked=checkpoints,
        findings=[
            FindingOut(position=f.position, seq=f.seq, kind=f.kind.value, detail=f.detail)
            for f in audit.findings
        ],
        verified_at=at,
    )


async def verify_decision_log(
    session: AsyncSession, *, checkpoint_by: str | None = None
) -> ChainReport:
    """Walk the whole log in ``seq`` order and check every recorded checkpoint. With
    ``checkpoint_by`` an intact chain's head is recorded as a new checkpoint (flushed; the
    caller commits), so a later cut of the newest rows is caught."""
    entries = await DecisionLog(session).chain()
    checkpoints = list(await session.scalars(select(DecisionLogCheckpoint)))
    anchors = [Anchor(c.seq, c.hash) for c in checkpoints]
    now = datetime.now(UTC)
    report = report_of(audit_chain(entries, anchors), len(anchors), now)
    if checkpoint_by and report.intact and report.head_seq is not None:
        session.add(
            DecisionLogCheckpoint(
                seq=report.head_seq,
                hash=report.head_hash,
                entries=report.entries,
                taken_at=now,
                taken_by=checkpoint_by,
            )
        )
        await session.flush()
        report.checkpoint_recorded = True
    return report
