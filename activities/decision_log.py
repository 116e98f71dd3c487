"""Enter a person's decision in the hash-chained decision log, beside the outcome it caused."""

from __future__ import annotations

from db.repositories import DecisionLog
from workflows.contracts import HumanDecision


async def log_human_decision(chain: DecisionLog, decision: HumanDecision, subject: str) -> None:
    """Append ``decision`` to the chain in the caller's transaction (the one that records its
    outcome): the person, their role and institution, what they saw and what they decided."""
    await chain.append(
        actor=decision.actor,
        kind=decision.kind,
        subject=subject,
        payload={
            "role": decision.role,
            "institution_id": str(decision.institution_id or ""),
            "inputs": dict(decision.inputs),
            "outcome": decision.outcome,
        },
    )
