"""Every kind of decision-log tampering is reported at its position, with its kind."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.decision_chain import (
    GENESIS_HASH,
    Anchor,
    BreakKind,
    ChainEntry,
    audit_chain,
    entry_hash,
)


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


def _kinds(
    entries: list[ChainEntry], anchors: tuple[Anchor, ...] = ()
) -> list[tuple[int, int, str]]:
    return [(f.position, f.seq, f.kind.value) for f in audit_chain(entries, anchors).findings]


def test_an_intact_chain_has_no_findings() -> None:
    audit = audit_chain(_chain(6))
    assert audit.intact and audit.entries == 6 and audit.head_seq == 6
    assert audit_chain([]).intact and audit_chain([]).head_hash == GENESIS_HASH


def test_an_edited_payload_is_content_altered_at_its_position_only() -> None:
    chain = _chain(6)
    chain[2] = replace(chain[2], payload={"amount": "999999", "step": 2})
    assert _kinds(chain) == [(3, 3, "content_altered")]


def test_an_edited_actor_is_content_altered_too() -> None:
    chain = _chain(4)
    chain[1] = replace(chain[1], actor="user:someone-else")
    assert _kinds(chain) == [(2, 2, "content_altered")]


def test_a_replaced_hash_is_told_from_an_edited_content() -> None:
    chain = _chain(6)
    chain[3] = replace(chain[3], hash="f" * 64)
    assert _kinds(chain) == [(4, 4, "hash_altered")]


def test_the_newest_entry_edited_is_a_hash_mismatch() -> None:
    chain = _chain(4)
    chain[3] = replace(chain[3], payload={"amount": "1", "step": 3})
    assert _kinds(chain) == [(4, 4, "hash_mismatch")]


def test_a_deleted_row_is_reported_on_the_row_after_the_gap() -> None:
    chain = _chain(6)
    del chain[2]  # seq 3 gone
    findings = audit_chain(chain).findings
    assert [(f.position, f.seq, f.kind) for f in findings] == [(3, 4, BreakKind.ROW_DELETED)]
    assert "seq 3" in findings[0].detail
    first_gone = _chain(3)[1:]
    assert _kinds(first_gone) == [(1, 2, "row_deleted")]


def test_a_row_rewritten_with_a_recomputed_hash_is_caught_by_its_successor() -> None:
    chain = _chain(5)
    forged = replace(chain[1], payload={"amount": "1", "step": 1})
    chain[1] = replace(
        forged,
        hash=entry_hash(
            forged.prev_hash, forged.at, forged.actor, forged.kind, forged.subject, forged.payload
        ),
    )
    assert _kinds(chain) == [(3, 3, "row_rewritten")]


def test_swapped_rows_are_reordered_once_each() -> None:
    chain = _chain(6)
    # Swapping the seq values of rows 2 and 3: sequence order now reads 1, 3, 2, 4, ...
    a, b = chain[1], chain[2]
    swapped = [chain[0], replace(b, seq=2), replace(a, seq=3), *chain[3:]]
    assert _kinds(swapped) == [(2, 2, "reordered")]
    far = [
        chain[0],
        replace(chain[4], seq=2),
        chain[2],
        chain[3],
        replace(chain[1], seq=5),
        chain[5],
    ]
    assert [(p, k) for p, _, k in _kinds(far)] == [(2, "reordered"), (5, "reordered")]


def test_a_cut_tail_is_caught_by_a_checkpoint() -> None:
    chain = _chain(6)
    anchors = (Anchor(6, chain[5].hash),)
    assert audit_chain(chain, anchors).intact
    assert _kinds(chain[:4], anchors) == [(5, 6, "anchor_mismatch")]
    rewritten = [*chain[:5], replace(chain[5], hash="e" * 64)]
    assert (6, 6, "anchor_mismatch") in _kinds(rewritten, anchors)


def test_several_breaks_are_all_reported_in_order() -> None:
    chain = _chain(8)
    chain[1] = replace(chain[1], payload={"amount": "7", "step": 1})
    del chain[5]
    assert _kinds(chain) == [(2, 2, "content_altered"), (6, 7, "row_deleted")]
