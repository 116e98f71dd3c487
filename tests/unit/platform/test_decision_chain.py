"""The decision-log hash chain detects altered, deleted and reordered entries by position."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.decision_chain import GENESIS_HASH, ChainEntry, entry_hash, verify_chain


def _chain(n: int) -> list[ChainEntry]:
    entries, prev = [], GENESIS_HASH
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(n):
        at = start + timedelta(minutes=i)
        payload = {"amount": str(100 * i), "step": i}
        h = entry_hash(prev, at, "system", "credit.decided", f"application-{i}", payload)
        entries.append(
            ChainEntry(i + 1, at, "system", "credit.decided", f"application-{i}", payload, prev, h)
        )
        prev = h
    return entries


def test_intact_chain_verifies() -> None:
    assert verify_chain(_chain(5)) is None
    assert verify_chain([]) is None


def test_altered_payload_is_reported_at_its_position() -> None:
    chain = _chain(5)
    chain[2] = replace(chain[2], payload={"amount": "999999", "step": 2})
    broken = verify_chain(chain)
    assert broken is not None and (broken.position, broken.reason) == (3, "content_altered")


def test_deleted_and_reordered_rows_break_the_links() -> None:
    chain = _chain(5)
    deleted = chain[:1] + chain[2:]
    assert verify_chain(deleted) == verify_chain(deleted)  # deterministic
    broken = verify_chain(deleted)
    assert broken is not None and broken.position == 2 and broken.reason == "link_broken"
    reordered = [chain[0], chain[2], chain[1], *chain[3:]]
    broken = verify_chain(reordered)
    assert broken is not None and broken.position == 2
