"""`loanbridge backup` of a running platform, `loanbridge restore` into a fresh data dir: every
record is there, and the workflows that were waiting carry on from where they stood."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from services.accounts import create_platform_admin
from tests.chaos.harness import ChaosStack
from tests.chaos.lifecycles import (
    Api,
    Lifecycle,
    accept_until_disbursed,
    officer_approves,
    onboard_and_apply,
    pay,
    setup_lender,
    wait_serviced,
)
from tests.integration.test_demand_api import STAFF_PASSWORD
from tests.integration.test_onboarding_api import PASSWORD
from tests.support import PROJECT_ROOT

pytestmark = pytest.mark.integration

ADMIN = ("backup-admin", "Backup#Admin2026")
LOANBRIDGE = [sys.executable, "-m", "cli.main"]


PASSPHRASE = "backup passphrase 2026"


def _cli(
    data_dir: Path, *args: str, passphrase: str = PASSPHRASE
) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "TEMPORAL_ADDRESS", "SANDBOX_URL"}
    }
    env.update(DATA_DIR=str(data_dir), LOG_JSON="true", LOANBRIDGE_BACKUP_PASSPHRASE=passphrase)
    return subprocess.run(
        [*LOANBRIDGE, *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture
def root(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Outside pytest's temp root (0700), which the embedded PostgreSQL's user cannot enter."""
    monkeypatch.setenv("LOG_JSON", "true")
    path = Path(tempfile.mkdtemp(prefix="lb-backup-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _username(life: Lifecycle) -> str:
    return life.username


@pytest.mark.timeout(600)
async def test_backup_then_restore_into_a_fresh_data_dir_keeps_records_and_workflows(
    root: Path,
) -> None:
    first = ChaosStack(root / "first", workers=1)
    archive = root / "backup.tar.gz"
    try:
        await asyncio.to_thread(first.start)  # migrations run their own event loop
        await create_platform_admin(first.database_url, *ADMIN, "Backup admin", exist_ok=True)
        api = Api(first.api_url, first.providers_url, deadline_s=120)
        lender = await setup_lender(api, ADMIN, "BACKUP")
        # A loan being repaid (its loan-{id} workflow waits for the next due date) ...
        borrower = Lifecycle(0, officer_path=False)
        applicant, app_id = await onboard_and_apply(api, lender, borrower)
        await api.poll(
            f"/api/v1/applications/{app_id}/progress",
            applicant,
            lambda b: b["stage"] == "offered",
            180,
        )
        loan_id = await accept_until_disbursed(api, borrower, applicant)
        await wait_serviced(api, loan_id, applicant)
        await pay(api, borrower, applicant, "backup-pay-1")
        # ... and an application waiting in an officer's inbox (application-{id} running).
        waiting = Lifecycle(1, officer_path=True)
        other, waiting_id = await onboard_and_apply(api, lender, waiting)
        await api.poll(
            f"/api/v1/applications/{waiting_id}/progress",
            other,
            lambda b: b["stage"] == "in_review",
            180,
        )
        await api.aclose()

        made = _cli(first.data_dir, "backup", "--output", str(archive))
        assert made.returncode == 0, made.stdout + made.stderr
    finally:
        await asyncio.to_thread(first.stop)

    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
        manifest = json.loads(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    assert {"manifest.json", "database.dump", "temporal.db", "sandbox.db", "keys.sealed"} <= names
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert any(n.startswith("documents/") for n in names)  # offer letter, contract, uploads
    assert all(len(f["sha256"]) == 64 for f in manifest["files"].values())

    wrong = _cli(root / "second", "restore", str(archive), passphrase="not the passphrase")
    assert wrong.returncode == 1 and "wrong passphrase" in wrong.stderr
    assert not (root / "second" / "temporal.db").exists()  # refused before anything moved
    restored = _cli(root / "second", "restore", str(archive))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    # The install's keys travelled sealed and are the restored data directory's keys now.
    kept = (root / "second" / "secrets.env").read_text()
    assert f"DATA_ENCRYPTION_KEY={os.environ['DATA_ENCRYPTION_KEY']}" in kept
    again = _cli(root / "second", "restore", str(archive))
    assert again.returncode == 1 and "already holds data" in again.stderr

    second = ChaosStack(root / "second", workers=1)
    try:
        await asyncio.to_thread(second.start)
        api = Api(second.api_url, second.providers_url, deadline_s=120)
        admin = await api.login("admin", *ADMIN)
        institutions = await api.call("GET", "/api/v1/institutions?limit=200", headers=admin)
        assert "CHAOS-BACKUP" in {i["code"] for i in institutions.json()}

        # The loan, its repayment and its documents are all there; its workflow takes the
        # next payment.
        applicant = await api.login("borrower", _username(borrower), PASSWORD)
        loans = (await api.call("GET", "/api/v1/loans", headers=applicant)).json()
        assert [loan["id"] for loan in loans] == [loan_id]
        assert loans[0]["status"] == "active"
        contract = await api.call(
            "GET", f"/api/v1/applications/{app_id}/documents/contract", headers=applicant
        )
        assert contract.status_code == 200 and contract.content.startswith(b"%PDF")
        progress = await pay(api, borrower, applicant, "backup-pay-2")
        assert progress["credit"] == "3000.00", progress
        kinds = await api.call("GET", f"/api/v1/loans/{loan_id}/transactions", headers=applicant)
        assert [t["kind"] for t in kinds.json()].count("repayment") == 2

        # The waiting application is still waiting, and an officer's decision moves it on.
        other = await api.login("other", _username(waiting), PASSWORD)
        stage = await api.call("GET", f"/api/v1/applications/{waiting_id}/progress", headers=other)
        assert stage.json()["stage"] == "in_review"
        officer = await api.login("officer", lender.officer, STAFF_PASSWORD)
        await officer_approves(api, officer, waiting_id)
        await api.poll(
            f"/api/v1/applications/{waiting_id}/progress",
            other,
            lambda b: b["stage"] == "offered",
            120,
        )
        new_loan = await accept_until_disbursed(api, waiting, other)
        assert new_loan and new_loan != loan_id

        # The simulated bank came back too: one disbursement per loan, never a second one.
        async with httpx.AsyncClient(base_url=second.providers_url) as bank:
            for application in (app_id, waiting_id):
                paid = (
                    await bank.get("/bank/v1/payments", params={"reference": application})
                ).json()["payments"]
                assert [p["direction"] for p in paid] == ["DISBURSEMENT"], paid
        await api.aclose()
    finally:
        await asyncio.to_thread(second.stop)
