"""The committed demo model is what the pipeline produces from its documented sample: the
scorecard byte for byte; the gradient-boosting challenger to the last bits of its floating-point
split thresholds, which depend on the CPU's SIMD path (each machine this runs on may differ)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from credit_model.compiled import CompiledScorecard
from credit_model.demo import DEMO_DIR, build

_FLOAT = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _challenger(text: str) -> str:
    """The LightGBM model text with every float to 10 significant digits, without the
    byte sizes of the trees (which follow the length of the floats' text)."""
    lines = [line for line in text.splitlines() if not line.startswith("tree_sizes=")]
    return _FLOAT.sub(lambda m: f"{float(m.group()):.10g}", "\n".join(lines))


def _metrics(raw: bytes) -> Any:
    """The metrics without the challenger's fingerprint (a hash of its exact bytes)."""
    metrics = json.loads(raw)
    text = json.dumps(metrics)
    return json.loads(re.sub(r'"fingerprint": "[0-9a-f]{64}"', '"fingerprint": ""', text))


def test_the_committed_demo_model_regenerates_identically(tmp_path: Path) -> None:
    built = build(tmp_path / "demo")
    scorecard = (built / "scorecard.json").read_bytes()
    assert scorecard == (DEMO_DIR / "scorecard.json").read_bytes()
    assert _challenger((built / "challenger.txt").read_text()) == _challenger(
        (DEMO_DIR / "challenger.txt").read_text()
    )
    assert _metrics((built / "metrics.json").read_bytes()) == _metrics(
        (DEMO_DIR / "metrics.json").read_bytes()
    )
    compiled = CompiledScorecard.from_json((DEMO_DIR / "scorecard.json").read_bytes())
    assert compiled.feature_set == "sme" and len(compiled.names) >= 8


def test_the_challenger_comparison_still_sees_a_changed_split() -> None:
    text = (DEMO_DIR / "challenger.txt").read_text()
    first = _FLOAT.search(text.split("Tree=0", 1)[1])
    assert first is not None
    moved = text.replace(first.group(), f"{float(first.group()) * 1.001:.17g}", 1)
    assert _challenger(moved) != _challenger(text)
