"""A backup archive is trusted only when its manifest lists every file with the right SHA-256."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import tarfile
from pathlib import Path

import pytest

from cli.backup import ARCHIVE_FORMAT, BackupError, _sqlite_copy, read_manifest


def _archive(path: Path, files: dict[str, bytes], listed: dict[str, bytes] | None = None) -> Path:
    manifest = {
        "format": ARCHIVE_FORMAT,
        "created_at": "2026-11-28T00:00:00+00:00",
        "data_dir": "/srv/lb",
        "database": "embedded",
        "alembic_revision": "0010",
        "files": {
            name: {"sha256": hashlib.sha256(body).hexdigest(), "bytes": len(body)}
            for name, body in (files if listed is None else listed).items()
        },
    }
    with tarfile.open(path, "w:gz") as tar:
        for name, body in {"manifest.json": json.dumps(manifest).encode(), **files}.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
    return path


def test_an_intact_archive_is_read(tmp_path: Path) -> None:
    files = {"database.dump": b"PGDMP...", "temporal.db": b"SQLite format 3\x00"}
    manifest = read_manifest(_archive(tmp_path / "ok.tar.gz", files))
    assert set(manifest.files) == set(files) and manifest.alembic_revision == "0010"


def test_a_damaged_file_is_refused(tmp_path: Path) -> None:
    archive = _archive(
        tmp_path / "bad.tar.gz",
        {"database.dump": b"PGDMP tampered"},
        listed={"database.dump": b"PGDMP original"},
    )
    with pytest.raises(BackupError, match="SHA-256 mismatch"):
        read_manifest(archive)


def test_an_unlisted_or_missing_file_is_refused(tmp_path: Path) -> None:
    extra = _archive(
        tmp_path / "extra.tar.gz",
        {"database.dump": b"x", "../../etc/passwd": b"root"},
        listed={"database.dump": b"x"},
    )
    with pytest.raises(BackupError, match="not listed"):
        read_manifest(extra)
    missing = _archive(
        tmp_path / "missing.tar.gz",
        {"database.dump": b"x"},
        listed={"database.dump": b"x", "temporal.db": b"y"},
    )
    with pytest.raises(BackupError, match=r"missing from the archive: temporal\.db"):
        read_manifest(missing)


def test_not_a_backup_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(BackupError, match="not a LoanBridge backup"):
        read_manifest(path)


def test_a_live_sqlite_file_is_copied_consistently(tmp_path: Path) -> None:
    source = tmp_path / "temporal.db"
    writer = sqlite3.connect(source)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("CREATE TABLE t (n INTEGER)")
    writer.executemany("INSERT INTO t VALUES (?)", [(n,) for n in range(1000)])
    writer.commit()
    writer.execute("INSERT INTO t VALUES (-1)")  # an open, uncommitted transaction
    _sqlite_copy(source, tmp_path / "copy.db")
    writer.rollback()
    writer.close()
    with sqlite3.connect(tmp_path / "copy.db") as copy:
        assert copy.execute("SELECT count(*), min(n) FROM t").fetchone() == (1000, 0)
