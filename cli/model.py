"""``loanbridge model``: train, evaluate and register credit models; list, show, promote, roll
back and fetch reports (an operator's commands: they use the database directly)."""

from __future__ import annotations

import asyncio
import getpass
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from cli.display import beijing, cell, label
from cli.preflight import ConfigurationError, load_settings
from cli.refusals import fail as _fail
from config.settings import Settings
from domain.labels import Vocabulary

model_app = typer.Typer(
    help="Credit model: train, report, registry, promote and roll back.", no_args_is_help=True
)

T = TypeVar("T")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        _fail(str(exc))


def _database_url(settings: Settings) -> str:
    from runtime.platform import RunState, state_path

    url = settings.database_url
    if not url:
        state = RunState.load(state_path(settings))
        url = str(state.database_url) if state else ""
    if not url:
        _fail("DATABASE_URL is not set and no `loanbridge up` is running in DATA_DIR")
    return url


def model_root(settings: Settings) -> Path:
    """Where model artifacts are kept: ``DATA_DIR/models/<version>/``."""
    return settings.data_dir / "models"


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


async def _in_session(database_url: str, work: Callable[[AsyncSession], Any]) -> Any:
    from db.session import create_engine, create_session_factory

    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            return await work(session)
    finally:
        await engine.dispose()


_FIND_VERSION = "the versions 已登记的版本: `loanbridge model list`"


def _registry_call(settings: Settings, work: Callable[[AsyncSession], Any]) -> Any:
    from credit_model.registry import RegistryError

    try:
        return asyncio.run(_in_session(_database_url(settings), work))
    except RegistryError as exc:
        _fail(f"{exc.zh} / {exc.en}" + (f"\n{_FIND_VERSION}" if exc.status == 404 else ""))


@dataclass(frozen=True, slots=True)
class TrainedModel:
    """The outcome of ``train_and_register``."""

    version: str
    directory: Path
    metrics: dict[str, Any]
    registered: bool


def train_and_write(
    dataset: Any,
    root: Path,
    *,
    folds: int = 5,
    tune: bool = True,
    seed: int = 7,
    version: str | None = None,
) -> tuple[Any, Any, str]:
    """Train on ``dataset`` and write artifacts and report under ``root``: (run, artifacts,
    version)."""
    from credit_model.pipeline import TrainingOptions, train
    from credit_model.registry import new_version, write_artifacts

    run = train(dataset, TrainingOptions(folds=folds, tune=tune, seed=seed))
    name = version or new_version(run)
    return run, write_artifacts(run, root, name), name


def train_and_register(
    dataset: Any,
    root: Path,
    database_url: str | None,
    *,
    folds: int = 5,
    tune: bool = True,
    seed: int = 7,
    version: str | None = None,
    created_by: str = "cli",
) -> TrainedModel:
    """``train_and_write``, then record the model in the registry when a database URL is
    given (synchronous: for the command line)."""
    from credit_model.registry import register

    run, artifacts, name = train_and_write(
        dataset, root, folds=folds, tune=tune, seed=seed, version=version
    )
    if database_url:

        async def work(session: AsyncSession) -> None:
            await register(session, run, artifacts, name, created_by)

        asyncio.run(_in_session(database_url, work))
    return TrainedModel(
        version=name,
        directory=artifacts.directory,
        metrics=run.metrics,
        registered=database_url is not None,
    )


@model_app.command("train")
def train_command(
    data: Annotated[Path | None, typer.Option(help="CSV file with a header row.")] = None,
    target: Annotated[str | None, typer.Option(help="Outcome column (1/bad = default).")] = None,
    schema: Annotated[
        str, typer.Option(help="sme: the platform's raw columns; custom: any columns.")
    ] = "sme",
    synthetic: Annotated[
        int | None, typer.Option(help="Train on N synthetic SME enterprises.")
    ] = None,
    german: Annotated[bool, typer.Option("--german", help="Train on German credit.")] = False,
    folds: Annotated[int, typer.Option(min=2, max=10)] = 5,
    tune: Annotated[bool, typer.Option(help="Tune over the parameter grids.")] = True,
    seed: int = 7,
    register: Annotated[bool, typer.Option(help="Record the model in the registry.")] = True,
    version: Annotated[str | None, typer.Option(help="Version name (default: generated).")] = None,
) -> None:
    """Train the scorecard and the challenger, write the report and register the model."""
    from credit_model.data import csv_dataset, german_dataset, synthetic_dataset
    from credit_model.errors import ModelDataError

    sources = [data is not None, synthetic is not None, german]
    if sum(sources) != 1:
        _fail(
            "请选择一种训练数据 / give exactly one of: "
            "--data FILE.csv --target COLUMN, --synthetic N, --german"
        )
    if schema not in ("sme", "custom"):
        _fail(
            f"--schema: {schema!r} 不是可选项 / is not one of: "
            f"sme ({label(Vocabulary.FEATURE_SET, 'sme')}); "
            f"custom ({label(Vocabulary.FEATURE_SET, 'custom')})"
        )
    if data is not None and not target:
        _fail("--data 需要 --target COLUMN（结果列） / --data needs --target COLUMN (the outcome)")
    settings = _settings()
    try:
        if data is not None:
            assert target is not None
            dataset = csv_dataset(data, target, schema)  # type: ignore[arg-type]
        elif synthetic is not None:
            if synthetic < 500:
                _fail("--synthetic: 至少 500 家企业 / at least 500 enterprises")
            dataset = synthetic_dataset(synthetic, seed=seed)
        else:
            dataset = german_dataset()
    except ModelDataError as exc:
        _fail(f"{exc.message_zh} / {exc.message_en}")
    typer.echo(
        f"training on 训练数据 {dataset.name}: {len(dataset.target)} rows 行, "
        f"{dataset.bads} bad 坏样本"
    )
    url = _database_url(settings) if register else None
    try:
        trained = train_and_register(
            dataset,
            model_root(settings),
            url,
            folds=folds,
            tune=tune,
            seed=seed,
            version=version,
            created_by=_actor(),
        )
    except ModelDataError as exc:
        _fail(f"{exc.message_zh} / {exc.message_en}")
    registered = f" ({label(Vocabulary.MODEL_STATUS, 'registered')})" if trained.registered else ""
    typer.echo(f"{cell('version 版本', 24)} {trained.version}{registered}")
    for line in metric_lines(trained.metrics):
        typer.echo(line)
    typer.echo(f"{cell('report 报告', 24)} {trained.directory / 'report.pdf'}")


def metric_lines(metrics: dict[str, Any]) -> list[str]:
    """How a model did, as an operator reads it: the champion, then each model's AUC, KS and
    Brier score cross-validated and out of time, and the synthetic data's ceilings."""
    lines = [
        f"{cell('champion 冠军模型', 24)} "
        f"{label(Vocabulary.MODEL_KIND, metrics['champion']['kind'])}"
    ]
    for kind in ("scorecard", "challenger"):
        lines.append(label(Vocabulary.MODEL_KIND, kind))
        lines += [
            f"  {cell(label(Vocabulary.MODEL_SAMPLE, sample), 28)} AUC {m['auc']:.4f}  "
            f"KS {m['ks']:.4f}  Brier {m['brier']:.4f}"
            for sample in ("cv", "oot")
            if (m := metrics[kind].get(sample))
        ]
    if "ceilings" in metrics:
        c = metrics["ceilings"]
        lines.append(
            f"{cell('ceilings 上限', 24)} 真实违约概率 true PD AUC {c['true_pd_auc']:.4f}  "
            f"真实特征 true features CV AUC {c['true_feature_cv_auc']:.4f}"
        )
    return lines


def _summary(row: Any) -> dict[str, Any]:
    m = row.metrics
    return {
        "version": row.version,
        "status": row.status,
        "champion": row.champion,
        "feature_set": row.feature_set,
        "dataset": row.dataset_name,
        "cv_auc": m.get(row.champion, {}).get("cv", {}).get("auc"),
        "created_at": row.created_at.isoformat(),
        "promoted_at": row.promoted_at.isoformat() if row.promoted_at else None,
    }


@model_app.command("list")
def list_command() -> None:
    """Registered models, newest first."""
    from credit_model.registry import list_versions

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [_summary(r) for r in await list_versions(session)]

    rows = _registry_call(_settings(), work)
    if not rows:
        typer.echo(
            "暂无登记的模型，评分使用规则评分卡 / "
            "no model registered; scoring uses the rule-based scorecard"
        )
    for r in rows:
        typer.echo(model_line(r))


def model_line(row: dict[str, Any]) -> str:
    """A registered model as an operator reads it: version, status, champion and feature set
    in words, cross-validated AUC, training data, registration time (Beijing time)."""
    return (
        f"{row['version']:<34} {cell(label(Vocabulary.MODEL_STATUS, row['status']), 20)} "
        f"{cell(label(Vocabulary.MODEL_KIND, row['champion']), 50)} "
        f"{cell(label(Vocabulary.FEATURE_SET, row['feature_set']), 30)} "
        f"AUC {row['cv_auc'] if row['cv_auc'] is not None else '—'}  {row['dataset']}  "
        f"登记于 registered {beijing(row['created_at'])}"
    )


@model_app.command("show")
def show_command(version: str) -> None:
    """One model: status, champion, feature set, training data, its figures, the artifacts'
    SHA-256 and the data fingerprint (every metric: the ``metrics.json`` it names)."""
    from credit_model.registry import get_version

    async def work(session: AsyncSession) -> dict[str, Any]:
        row = await get_version(session, version)
        return {
            **_summary(row),
            "scorecard_sha256": row.scorecard_sha256,
            "challenger_sha256": row.challenger_sha256,
            "data_fingerprint": row.data_fingerprint,
            "artifact_dir": row.artifact_dir,
            "metrics": row.metrics,
        }

    row = _registry_call(_settings(), work)
    for title, value in (
        ("version 版本", row["version"]),
        ("status 状态", label(Vocabulary.MODEL_STATUS, row["status"])),
        ("feature set 特征集", label(Vocabulary.FEATURE_SET, row["feature_set"])),
        ("training data 训练数据", row["dataset"]),
        ("registered 登记于", f"{beijing(row['created_at'])} (北京时间)"),
        (
            "promoted 上线于",
            f"{beijing(row['promoted_at'])} (北京时间)" if row["promoted_at"] else "—",
        ),
    ):
        typer.echo(f"{cell(title, 24)} {value}")
    for line in metric_lines(row["metrics"]):
        typer.echo(line)
    for title, value in (
        ("scorecard 评分卡 SHA-256", row["scorecard_sha256"]),
        ("challenger 挑战者 SHA-256", row["challenger_sha256"]),
        ("data 数据指纹 SHA-256", row["data_fingerprint"]),
        ("metrics 全部指标", str(Path(row["artifact_dir"]) / "metrics.json")),
    ):
        typer.echo(f"{cell(title, 24)} {value}")


@model_app.command("promote")
def promote_command(version: str) -> None:
    """Make a model the one that scores applications."""
    from credit_model.registry import promote

    async def work(session: AsyncSession) -> str:
        return (await promote(session, version, _actor())).version

    promoted = _registry_call(_settings(), work)
    typer.echo(f"promoted 已上线 {promoted}: 新申请由它评分 / it scores new applications")


@model_app.command("rollback")
def rollback_command() -> None:
    """Put back the model promoted before the current one."""
    from credit_model.registry import rollback

    async def work(session: AsyncSession) -> str:
        return (await rollback(session, _actor())).version

    back = _registry_call(_settings(), work)
    typer.echo(f"rolled back to 已回滚至 {back}: 新申请由它评分 / it scores new applications")


@model_app.command("report")
def report_command(
    version: str,
    save: Annotated[Path | None, typer.Option(help="Copy the PDF report here.")] = None,
) -> None:
    """Where a model's report is (HTML, PDF, JSON metrics); ``--save`` copies the PDF."""
    from credit_model.registry import get_version

    async def work(session: AsyncSession) -> str:
        return (await get_version(session, version)).artifact_dir

    directory = Path(_registry_call(_settings(), work))
    pdf = directory / "report.pdf"
    if not pdf.exists():
        _fail(f"{version} 的报告不在 {directory} / the report of {version} is missing there")
    if save is not None:
        shutil.copyfile(pdf, save)
        typer.echo(f"saved 已保存 {save}")
    for name in ("report.html", "report.pdf", "metrics.json"):
        typer.echo(str(directory / name))
