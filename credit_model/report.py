"""Evaluation report of a training run: ROC, KS and calibration plots (matplotlib, Agg), the
HTML report, its PDF (WeasyPrint through ``documents.pdf``) and the JSON metrics file."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt

from credit_model import metrics
from credit_model.pipeline import TrainingRun
from documents.environment import shared_environment
from documents.pdf import render_pdf

TEMPLATE = "model_report"


@dataclass(frozen=True, slots=True)
class ReportFiles:
    """Where the report went."""

    html: Path
    pdf: Path
    metrics: Path


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _plots(run: TrainingRun) -> dict[str, str]:
    """Base64 PNGs of the ROC, KS and calibration curves (cross-validated predictions)."""
    images: dict[str, str] = {}
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    for name, series in run.plots.items():
        fpr, tpr = metrics.roc_curve(series["y"], series["pd"])
        ax.plot(fpr, tpr, label=f"{name} (AUC {metrics.auc(series['y'], series['pd']):.3f})")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("ROC")
    ax.legend(loc="lower right", fontsize=8)
    images["roc"] = _png(fig)

    champion = run.plots[run.champion]
    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    share, bad, good = metrics.ks_curve(champion["y"], champion["pd"])
    gap = np.abs(bad - good)
    at = int(np.argmax(gap))
    ax.plot(share, bad, label="bads")
    ax.plot(share, good, label="goods")
    ax.vlines(share[at], good[at], bad[at], colors="red", label=f"KS {gap[at]:.3f}")
    ax.set_xlabel("population, riskiest first")
    ax.set_ylabel("cumulative share")
    ax.set_title(f"KS ({run.champion})")
    ax.legend(loc="lower right", fontsize=8)
    images["ks"] = _png(fig)

    fig, ax = plt.subplots(figsize=(4.2, 3.6))
    for name, series in run.plots.items():
        predicted, observed = _deciles(series["y"], series["pd"])
        ax.plot(predicted, observed, marker="o", label=name)
    top = max(float(np.max(s["pd"])) for s in run.plots.values())
    ax.plot([0, top], [0, top], linestyle=":", color="grey")
    ax.set_xlabel("mean predicted PD (decile)")
    ax.set_ylabel("observed bad rate")
    ax.set_title("Calibration")
    ax.legend(loc="upper left", fontsize=8)
    images["calibration"] = _png(fig)
    return images


def _deciles(
    y: npt.NDArray[np.float64], pd_: npt.NDArray[np.float64]
) -> tuple[list[float], list[float]]:
    order = np.argsort(pd_, kind="mergesort")
    groups = np.array_split(order, 10)
    return [float(pd_[g].mean()) for g in groups if len(g)], [
        float(y[g].mean()) for g in groups if len(g)
    ]


def write_report(run: TrainingRun, out_dir: Path, version: str) -> ReportFiles:
    """Write ``report.html``, ``report.pdf`` and ``metrics.json`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    document = {**run.metrics, "version": version}
    metrics_path = out_dir / "metrics.json"
    metrics_path.write_text(json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True))
    context = {
        "version": version,
        "m": document,
        "images": _plots(run),
        "scorecard": run.scorecard.document,
    }
    html = shared_environment().get_template(f"pdf/{TEMPLATE}.html").render(context)
    html_path = out_dir / "report.html"
    html_path.write_text(html)
    pdf_path = out_dir / "report.pdf"
    pdf_path.write_bytes(render_pdf(TEMPLATE, context))
    return ReportFiles(html=html_path, pdf=pdf_path, metrics=metrics_path)
