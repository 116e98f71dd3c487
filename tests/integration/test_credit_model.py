"""The credit model end to end on a small sample: training writes the report, the JSON metrics
and the artifacts, the registry records them, the API promotes and rolls back, and the scoring
service serves the promoted version (the rules when none is)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import update

from adapters.scoring.model import reason_text
from adapters.scoring.registry import RegistryScorer
from cli.model import train_and_write
from credit_model.compiled import sha256_hex
from credit_model.data import Dataset, csv_dataset, synthetic_dataset
from credit_model.features import FEATURES, TEXT_RAW
from credit_model.registry import register
from credit_model.synthetic import generate
from db.models_risk import CreditModelVersion
from domain.labels import known, label
from domain.scorecard import MODEL_VERSION, ScoringInput
from tests.integration.conftest import Platform
from tests.integration.test_application_api import (
    _credit_task,
    _progress_until,
    _reviewed_product,
)
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration

INPUT = ScoringInput(
    enterprise_age_months=50,
    annual_revenue=Decimal(6_000_000),
    revenue_growth=Decimal("0.08"),
    profit_margin=Decimal("0.07"),
    tax_grade="A",
    bureau_score=700,
    overdue_count_24m=0,
    current_overdue=False,
    outstanding_debt=Decimal(500_000),
    requested_amount=Decimal(300_000),
    industry="C",
)


async def _train(platform: Platform, ds: Dataset, root: Path, version: str) -> Path:
    run, artifacts, name = train_and_write(ds, root, folds=3, tune=False, version=version)
    async with platform.sessions() as session, session.begin():
        await register(session, run, artifacts, name, "test")
    directory: Path = artifacts.directory
    return directory


async def test_pipeline_registry_api_and_serving(platform: Platform, tmp_path: Path) -> None:
    directory = await _train(platform, synthetic_dataset(1500, seed=21), tmp_path, "cm-test-1")
    # the report, the JSON metrics and both artifacts are on disk
    for name in ("report.html", "report.pdf", "metrics.json", "scorecard.json", "challenger.txt"):
        assert (directory / name).stat().st_size > 0, name
    assert (directory / "report.pdf").read_bytes().startswith(b"%PDF")
    written = json.loads((directory / "metrics.json").read_text())
    assert written["version"] == "cm-test-1"
    assert 0.6 < written["scorecard"]["cv"]["auc"] <= written["ceilings"]["true_pd_auc"] + 0.05
    html = (directory / "report.html").read_text()
    assert "data:image/png;base64," in html and "cm-test-1" in html

    headers = await platform.admin_headers()
    listed = (await platform.http.get("/api/v1/models", headers=headers)).json()
    mine = next(m for m in listed if m["version"] == "cm-test-1")
    assert mine["status"] == "registered"
    assert mine["scorecard_sha256"] == sha256_hex((directory / "scorecard.json").read_bytes())
    assert mine["challenger_sha256"] == sha256_hex((directory / "challenger.txt").read_bytes())
    assert len(mine["data_fingerprint"]) == 64

    scorer = RegistryScorer(platform.sessions, refresh_s=0)
    assert (await scorer.current())(INPUT).model_version == MODEL_VERSION  # nothing promoted

    response = await platform.http.post("/api/v1/models/cm-test-1/promote", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "promoted"
    served = (await scorer.current())(INPUT)
    assert served.model_version == "cm-test-1"
    assert all(code.startswith("model.") for code in served.reason_codes)

    await _train(platform, synthetic_dataset(1500, seed=22), tmp_path, "cm-test-2")
    assert (
        await platform.http.post("/api/v1/models/cm-test-2/promote", headers=headers)
    ).status_code == 200
    assert (await scorer.current())(INPUT).model_version == "cm-test-2"
    again = await platform.http.post("/api/v1/models/cm-test-2/promote", headers=headers)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "model.already_promoted"

    back = await platform.http.post("/api/v1/models/rollback", headers=headers)
    assert back.status_code == 200 and back.json()["version"] == "cm-test-1"
    assert (await scorer.current())(INPUT).model_version == "cm-test-1"
    detail = (await platform.http.get("/api/v1/models/cm-test-2", headers=headers)).json()
    assert detail["status"] == "retired" and detail["metrics"]["version"] == "cm-test-2"

    missing = await platform.http.get("/api/v1/models/cm-nope", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "model.not_found"
    anonymous = await platform.http.post("/api/v1/models/cm-test-1/promote")
    assert anonymous.status_code == 401

    # a scorecard whose stored bytes no longer match its SHA-256 is not served
    async with platform.sessions() as session, session.begin():
        await session.execute(
            update(CreditModelVersion)
            .where(CreditModelVersion.version == "cm-test-1")
            .values(scorecard_sha256="0" * 64)
        )
    assert (await scorer.current())(INPUT).model_version == MODEL_VERSION
    async with platform.sessions() as session, session.begin():
        await session.execute(
            update(CreditModelVersion)
            .where(CreditModelVersion.version == "cm-test-1")
            .values(status="retired")
        )


async def test_a_custom_column_model_cannot_be_promoted(platform: Platform, tmp_path: Path) -> None:
    data = tmp_path / "custom.csv"
    rows = [
        f"{'red' if i % 3 else 'blue'},{i % 4 + i % 3},{1 if i % 4 == 0 else 0}" for i in range(400)
    ]
    data.write_text("\n".join(["colour,amount,bad", *rows]))
    await _train(platform, csv_dataset(data, "bad", "custom"), tmp_path, "cm-custom")
    headers = await platform.admin_headers()
    response = await platform.http.post("/api/v1/models/cm-custom/promote", headers=headers)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "model.not_servable"


async def test_the_demo_model_is_registered_once_and_promoted(
    platform: Platform, tmp_path: Path
) -> None:
    from credit_model.demo import DEMO_VERSION, _seed

    url = platform.settings.database_url or ""
    first = await _seed(url, tmp_path)
    again = await _seed(url, tmp_path)
    assert first == [f"credit model {DEMO_VERSION}: registered and promoted"]
    assert again == [f"credit model {DEMO_VERSION}: registered before"]
    scorer = RegistryScorer(platform.sessions, refresh_s=0)
    assert (await scorer.current())(INPUT).model_version == DEMO_VERSION
    assert (tmp_path / DEMO_VERSION / "report.pdf").read_bytes().startswith(b"%PDF")
    async with platform.sessions() as session, session.begin():  # leave the rules serving
        await session.execute(
            update(CreditModelVersion)
            .where(CreditModelVersion.version == DEMO_VERSION)
            .values(status="retired")
        )


def _weakest_link_csv(path: Path, n: int = 3000) -> Path:
    """SME raw columns whose risk lies in the weaker of two factors (leverage against cash flow,
    leverage against the bureau score): ``min`` of two ranks, which no sum of points per
    variable ranks right and trees do — the kind of data on which the booster should win."""
    sample = generate(n, seed=31)
    columns = sample.columns
    number = {k: np.asarray(columns[k], dtype=np.float64) for k in columns if k not in TEXT_RAW}
    leverage = np.nan_to_num(number["total_liabilities"] / number["total_assets"], nan=0.5)
    cash_flow = np.nan_to_num(number["operating_cash_flow"], nan=0.0)
    bureau = np.nan_to_num(number["bureau_score"], nan=650.0)
    rank = [(np.argsort(np.argsort(v)) + 1) / n for v in (leverage, -cash_flow, -bureau)]
    log_odds = -5.5 + 6.0 * np.minimum(rank[0], rank[1]) + 4.0 * np.minimum(rank[0], rank[2])
    bad = np.random.default_rng(5).random(n) < 1 / (1 + np.exp(-log_odds))
    names = list(columns)
    lines = [",".join([*names, "bad"])]
    for i in range(n):
        cells = ["" if v is None or v != v else str(v) for v in (columns[k][i] for k in names)]
        lines.append(",".join([*cells, str(int(bad[i]))]))
    path.write_text("\n".join(lines))
    return path


async def test_a_boosting_champion_is_promoted_and_scores_applications(
    platform: Platform, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    data = csv_dataset(_weakest_link_csv(tmp_path / "weakest.csv"), "bad")
    directory = await _train(platform, data, tmp_path, "cm-gbm-1")
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["champion"]["kind"] == "challenger", (
        metrics["scorecard"]["cv"]["auc"],
        metrics["challenger"]["cv"]["auc"],
    )
    headers = await platform.admin_headers()
    promoted = await platform.http.post("/api/v1/models/cm-gbm-1/promote", headers=headers)
    assert promoted.status_code == 200, promoted.text
    try:
        supervisor, product, applicant = await _reviewed_product(platform, sandbox, "GBM-1")
        body = {
            "product_id": product.json()["id"],
            "amount": "200000.00",
            "term_months": 12,
            "repayment_method": "equal_installment",
        }
        submitted = await platform.http.post("/api/v1/applications", json=body, headers=applicant)
        assert submitted.status_code == 201, submitted.text
        app_id = submitted.json()["id"]
        progress = await _progress_until(platform, app_id, applicant, {"in_review", "declined"})
        assessment = progress["assessment"]
        assert assessment["model_version"] == "cm-gbm-1", assessment
        assert assessment["grade"] in "ABCDE" and 300 <= assessment["score"] <= 900
        reasons = assessment["reason_codes"]
        assert reasons and all(code.removeprefix("model.") in FEATURES for code in reasons)
        # people read them in words, as a scorecard's: the same labelled reasons
        assert all(known("reason", code) for code in reasons)
        assert reason_text(reasons[0])[0] == label("reason", reasons[0])
        assert (await _credit_task(platform, app_id, supervisor))["subject"].endswith(app_id)
    finally:
        async with platform.sessions() as session, session.begin():  # the rules serve again
            await session.execute(
                update(CreditModelVersion)
                .where(CreditModelVersion.version == "cm-gbm-1")
                .values(status="retired")
            )


def test_a_booster_without_its_text_or_with_other_bytes_is_refused() -> None:
    from credit_model.registry import RegistryError, load_booster

    row = CreditModelVersion(version="cm-x", challenger_model=None, challenger_sha256="0" * 64)
    with pytest.raises(RegistryError) as missing:
        load_booster(row)
    assert missing.value.code == "model.artifact_missing"
    row.challenger_model = "tree\n"
    with pytest.raises(RegistryError) as tampered:
        load_booster(row)
    assert tampered.value.code == "model.artifact_tampered"
