"""The committed demo model is exactly what the pipeline produces from its documented sample."""

from __future__ import annotations

from pathlib import Path

from credit_model.compiled import CompiledScorecard
from credit_model.demo import DEMO_DIR, build


def test_the_committed_demo_model_regenerates_identically(tmp_path: Path) -> None:
    built = build(tmp_path / "demo")
    for name in ("scorecard.json", "challenger.txt", "metrics.json"):
        assert (built / name).read_bytes() == (DEMO_DIR / name).read_bytes(), name
    scorecard = CompiledScorecard.from_json((DEMO_DIR / "scorecard.json").read_bytes())
    assert scorecard.feature_set == "sme" and len(scorecard.names) >= 8
