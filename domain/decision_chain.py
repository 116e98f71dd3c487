"""Hash chain of the decision log: each entry's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

GENESIS_HASH = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def canonical_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON-safe form stored and hashed (Decimal and datetime as strings)."""
    return {str(k): _canonical(v) for k, v in payload.items()}


def entry_hash(
    prev_hash: str, at: datetime, actor: str, kind: str, subject: str, payload: Mapping[str, Any]
) -> str:
    """SHA-256 over a canonical JSON of the entry and the previous entry's hash."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": at.isoformat(),
            "actor": actor,
            "kind": kind,
            "subject": subject,
            "payload": _canonical(payload),
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ChainEntry:
    """What the verifier needs of one stored entry."""

    seq: int
    at: datetime
    actor: str
    kind: str
    subject: str
    payload: Mapping[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """Where the chain stops being trustworthy and why."""

    position: int  # 1-based position in the chain
    seq: int
    reason: str  # "content_altered", "link_broken" (a row deleted or reordered)


def verify_chain(entries: Iterable[ChainEntry]) -> ChainBreak | None:
    """Walk the chain in order; the first broken entry is reported, None when all hold."""
    expected_prev = GENESIS_HASH
    for position, entry in enumerate(entries, start=1):
        if entry.prev_hash != expected_prev:
            return ChainBreak(position, entry.seq, "link_broken")
        recomputed = entry_hash(
            entry.prev_hash, entry.at, entry.actor, entry.kind, entry.subject, entry.payload
        )
        if recomputed != entry.hash:
            return ChainBreak(position, entry.seq, "content_altered")
        expected_prev = entry.hash
    return None


class BreakKind(StrEnum):
    """How a stored chain departs from what was appended."""

    CONTENT_ALTERED = "content_altered"  # a field was edited; the row keeps its old hash
    HASH_ALTERED = "hash_altered"  # the stored hash was replaced; the content is intact
    HASH_MISMATCH = "hash_mismatch"  # the newest row: content or hash edited, no successor to tell
    ROW_DELETED = "row_deleted"  # the predecessor this row links to is gone (sequence gap)
    ROW_REWRITTEN = "row_rewritten"  # the previous row was rewritten with a recomputed hash
    REORDERED = "reordered"  # the row links to an entry that exists elsewhere in the order
    ANCHOR_MISMATCH = "anchor_mismatch"  # a recorded checkpoint no longer matches (tail cut)


@dataclass(frozen=True, slots=True)
class ChainFinding:
    """One break, located by its 1-based position in sequence order and its ``seq``."""

    position: int
    seq: int
    kind: BreakKind
    detail: str


@dataclass(frozen=True, slots=True)
class Anchor:
    """A checkpoint taken earlier: the entry at ``seq`` had this ``hash`` then."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class ChainAudit:
    """The result of walking the whole chain: every finding, not just the first."""

    entries: int
    head_seq: int | None
    head_hash: str
    findings: tuple[ChainFinding, ...]

    @property
    def intact(self) -> bool:
        return not self.findings


def audit_chain(
    entries: Sequence[ChainEntry], anchors: Iterable[Anchor] = (), *, limit: int = 100
) -> ChainAudit:
    """Walk the chain in ``seq`` order and classify every break (up to ``limit`` findings).

    After a break the walk resynchronises on the row's own link, so one edited row yields one
    finding and the rows after it are still checked. A row whose link names an unknown hash is
    told apart from a reordering (the hash belongs to another stored row) and, by a gap in
    ``seq``, a deletion from a rewrite of the row before it. Anchors catch what the links cannot:
    the newest rows deleted or rewritten after a checkpoint was taken.
    """
    findings: list[ChainFinding] = []
    stored = {entry.hash for entry in entries}
    recomputed = [
        entry_hash(e.prev_hash, e.at, e.actor, e.kind, e.subject, e.payload) for e in entries
    ]
    known = stored | set(recomputed)
    expected_prev = GENESIS_HASH
    previous_seq = 0
    reordered_at = -1
    for index, entry in enumerate(entries):
        position = index + 1
        if entry.prev_hash != expected_prev:
            if entry.prev_hash in known and entry.prev_hash != GENESIS_HASH:
                kind, detail = BreakKind.REORDERED, "links to an entry stored out of order"
            elif entry.prev_hash == GENESIS_HASH:
                kind, detail = BreakKind.REORDERED, "links to the genesis but is not first"
            elif entry.seq > previous_seq + 1:
                missing = (
                    str(previous_seq + 1)
                    if entry.seq == previous_seq + 2
                    else f"{previous_seq + 1}-{entry.seq - 1}"
                )
                kind, detail = BreakKind.ROW_DELETED, f"predecessor missing (seq {missing})"
            else:
                kind, detail = BreakKind.ROW_REWRITTEN, "the previous entry was rewritten"
            # A moved row also breaks its successor's link: one finding per displaced row.
            if not (kind is BreakKind.REORDERED and reordered_at == position - 1):
                findings.append(ChainFinding(position, entry.seq, kind, detail))
            if kind is BreakKind.REORDERED:
                reordered_at = position
        if recomputed[index] != entry.hash:
            following = entries[index + 1] if index + 1 < len(entries) else None
            if following is None:
                kind, detail = BreakKind.HASH_MISMATCH, "newest entry does not match its hash"
                expected_prev = entry.hash
            elif following.prev_hash == recomputed[index]:
                kind, detail = BreakKind.HASH_ALTERED, "stored hash replaced; content intact"
                expected_prev = recomputed[index]
            else:
                kind, detail = BreakKind.CONTENT_ALTERED, "content edited after it was hashed"
                expected_prev = entry.hash
            findings.append(ChainFinding(position, entry.seq, kind, detail))
        else:
            expected_prev = entry.hash
        previous_seq = entry.seq
    by_seq = {entry.seq: (position, entry.hash) for position, entry in enumerate(entries, 1)}
    for anchor in anchors:
        found = by_seq.get(anchor.seq)
        if found is None:
            findings.append(
                ChainFinding(
                    len(entries) + 1, anchor.seq, BreakKind.ANCHOR_MISMATCH, "checkpointed row gone"
                )
            )
        elif found[1] != anchor.hash:
            findings.append(
                ChainFinding(
                    found[0], anchor.seq, BreakKind.ANCHOR_MISMATCH, "checkpointed hash changed"
                )
            )
    findings.sort(key=lambda f: (f.position, f.seq))
    head = entries[-1] if entries else None
    return ChainAudit(
        entries=len(entries),
        head_seq=head.seq if head else None,
        head_hash=head.hash if head else GENESIS_HASH,
        findings=tuple(findings[:limit]),
    )
