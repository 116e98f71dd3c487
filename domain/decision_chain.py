"""Hash chain of the decision log: each entry's hash covers its content and the previous hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
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
