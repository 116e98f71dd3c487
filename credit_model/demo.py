"""The demo's credit model: a scorecard trained by the pipeline on 2,000 synthetic enterprises,
committed under ``credit_model/demo_model/`` (``python -m credit_model.demo`` regenerates it,
and a test checks it regenerates byte for byte). ``loanbridge up --demo`` registers and
promotes it, after the demo applications, which keep the rule-based scores they got."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from credit_model.data import synthetic_dataset
from credit_model.demo_version import DEMO_VERSION as DEMO_VERSION  # re-exported
from credit_model.pipeline import TrainingOptions, train
from credit_model.registry import (
    CHALLENGER_FILE,
    METRICS_FILE,
    SCORECARD_FILE,
    RegistryError,
    get_version,
    promote,
    promoted,
    register_directory,
    write_artifacts,
)

DEMO_DIR: Final = Path(__file__).resolve().parent / "demo_model"
DEMO_ROWS: Final = 2_000
DEMO_SEED: Final = 2026
FILES: Final = (SCORECARD_FILE, CHALLENGER_FILE, METRICS_FILE, "report.html", "report.pdf")


def build(out_dir: Path) -> Path:
    """Train the demo model and write its artifacts and report into ``out_dir``."""
    run = train(
        synthetic_dataset(DEMO_ROWS, seed=DEMO_SEED),
        TrainingOptions(folds=3, tune=False, seed=DEMO_SEED),
    )
    run.metrics.pop("training_seconds", None)  # the only figure that differs between runs
    with tempfile.TemporaryDirectory() as tmp:
        artifacts = write_artifacts(run, Path(tmp), DEMO_VERSION)
        out_dir.mkdir(parents=True, exist_ok=True)
        for name in FILES:
            shutil.copyfile(artifacts.directory / name, out_dir / name)
    return out_dir


async def _seed(database_url: str, models_root: Path) -> list[str]:
    from db.session import create_engine, create_session_factory

    engine = create_engine(database_url, pool_size=1)
    try:
        async with create_session_factory(engine)() as session, session.begin():
            try:
                await get_version(session, DEMO_VERSION)
                return [f"credit model {DEMO_VERSION}: registered before"]
            except RegistryError:
                pass
            target = models_root / DEMO_VERSION
            target.mkdir(parents=True, exist_ok=True)
            for name in FILES:
                shutil.copyfile(DEMO_DIR / name, target / name)
            await register_directory(session, target, DEMO_VERSION, "demo")
            if await promoted(session) is None:
                await promote(session, DEMO_VERSION, "demo")
                return [f"credit model {DEMO_VERSION}: registered and promoted"]
            return [f"credit model {DEMO_VERSION}: registered"]
    finally:
        await engine.dispose()


def seed_demo_model(database_url: str, models_root: Path | None = None) -> Iterator[str]:
    """Register the committed demo model (once) and promote it when none is promoted."""
    if models_root is None:
        from config.settings import get_settings

        models_root = get_settings().data_dir / "models"
    yield from asyncio.run(_seed(database_url, models_root))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEMO_DIR
    sys.stdout.write(f"{build(target)}\n")
