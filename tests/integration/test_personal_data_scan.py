"""After the whole demo (`loanbridge up --demo`), no plaintext ID number, phone or bank account
the demo used is anywhere we keep data: raw Temporal histories (and the dev server's SQLite
file), every log file, every column of every table, the document store."""

from __future__ import annotations

import json
import shutil
import signal
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from temporalio.client import Client

from cli.demo import DEMO_ACCOUNT, DEMO_ENTERPRISES
from db.session import libpq_url
from sandbox.codes import with_id_check_digit
from tests.integration.test_up import Up

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """Outside pytest's temp root (0700), which the embedded PostgreSQL's user cannot enter."""
    root = Path(tempfile.mkdtemp(prefix="lb-pii-"))
    yield root / "data"
    shutil.rmtree(root, ignore_errors=True)


def _plaintexts(data_dir: Path) -> dict[str, str]:
    """Every ID number, phone and account the demo used → what it is. Phones and accounts are
    also read back from the simulated providers (the SMS outbox, the bank), so whatever the
    demo seeds there is covered, and the test proves the data really flowed."""
    found: dict[str, str] = {}
    for demo in DEMO_ENTERPRISES:
        found[with_id_check_digit(demo.id_first17)] = f"ID number of {demo.username}"
        found[demo.mobile] = f"phone of {demo.username}"
    found[DEMO_ACCOUNT] = "demo bank account"
    with sqlite3.connect(data_dir / "sandbox.db") as providers:
        phones = {r[0] for r in providers.execute("SELECT recipient FROM sms_messages")}
        accounts = {r[0] for r in providers.execute("SELECT account FROM payments")}
    assert DEMO_ENTERPRISES[0].mobile in phones, "the demo texted nobody?"
    assert DEMO_ACCOUNT in accounts, "the demo paid no loan out?"
    found.update({p: "phone texted by the platform" for p in phones})
    found.update({a: "account paid by the platform" for a in accounts})
    return found


def _hits(blob: bytes, where: str, plaintexts: dict[str, str]) -> list[str]:
    hits = []
    for text, what in plaintexts.items():
        for variant in {text, text.lower()}:
            if variant.encode() in blob:
                hits.append(f"{where}: {what} ({text[:3]}…{text[-2:]})")
    return hits


async def _history_hits(address: str, plaintexts: dict[str, str]) -> tuple[int, list[str]]:
    """Raw history bytes of every run of every workflow (payloads as stored, not decoded)."""
    client = await Client.connect(address)
    hits: list[str] = []
    runs = 0
    async for execution in client.list_workflows():
        handle = client.get_workflow_handle(execution.id, run_id=execution.run_id)
        history = await handle.fetch_history()
        blob = b"".join(event.SerializeToString() for event in history.events)
        runs += 1
        hits += _hits(blob, f"history {execution.id}", plaintexts)
    return runs, hits


def _database_hits(database_url: str, plaintexts: dict[str, str]) -> tuple[int, list[str]]:
    """Every row of every table as text (all columns: text, json, numbers, bytes as hex)."""
    hits: list[str] = []
    rows = 0
    with psycopg.connect(libpq_url(database_url)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
            )
        ]
        for table in tables:
            for (row,) in conn.execute(f'SELECT t::text FROM "{table}" t'):  # noqa: S608
                rows += 1
                hits += _hits(row.encode(), f"table {table}", plaintexts)
    return rows, hits


def _file_hits(data_dir: Path, up_log: Path, plaintexts: dict[str, str]) -> tuple[int, list[str]]:
    """Logs (every component's and `up`'s own), Temporal's SQLite file, the document store."""
    logs = [*sorted((data_dir / "logs").glob("*.log")), up_log]
    temporal_files = sorted(data_dir.glob("temporal.db*"))
    documents = [p for p in (data_dir / "documents").rglob("*") if p.is_file()]
    assert len(logs) >= 5 and temporal_files and documents, "nothing to scan?"
    hits: list[str] = []
    files = logs + temporal_files + documents
    for path in files:
        hits += _hits(path.read_bytes(), f"file {path.name}", plaintexts)
    return len(files), hits


def _state(data_dir: Path) -> dict[str, str]:
    state: dict[str, str] = json.loads((data_dir / "run" / "state.json").read_text())
    return state


@pytest.mark.timeout(900)
async def test_no_plaintext_personal_data_after_the_demo(data_dir: Path) -> None:
    up = Up(data_dir, demo=True)
    try:
        up.wait_ready(timeout_s=600)
        state = _state(data_dir)
        plaintexts = _plaintexts(data_dir)
        runs, history_hits = await _history_hits(state["temporal_address"], plaintexts)
        rows, database_hits = _database_hits(state["database_url"], plaintexts)
    finally:
        up.proc.send_signal(signal.SIGINT)
        up.proc.wait(timeout=120)
    files, file_hits = _file_hits(data_dir, Path(up.log.name), plaintexts)
    print(  # the figures for the README
        f"personal data scan: {len(plaintexts)} plaintexts, {runs} workflow runs, "
        f"{rows} rows, {files} files; found {len(history_hits + database_hits + file_hits)}"
    )

    # The scan looked at real material: the demo's workflows and rows.
    assert runs >= 20 and rows >= 100, (runs, rows)
    assert history_hits + database_hits + file_hits == []
