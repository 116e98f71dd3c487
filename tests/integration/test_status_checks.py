"""Migration 0017 on PostgreSQL: each lifecycle column refuses a status its lifecycle lacks
and takes every one it has; the downgrade drops the constraints and the upgrade restores them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Integer, Numeric, Table, Uuid

import db.all_models  # noqa: F401 - every table in the metadata
from db.base import Base
from db.migrate import alembic_config, upgrade_to_head
from db.session import libpq_url
from domain.lifecycle import LIFECYCLES, Lifecycle
from tests.support import fresh_database


@pytest.fixture(scope="module")
def migrated(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url, prefix="lb_checks") as url:
        upgrade_to_head(url)
        yield url


def _literal(column: Column[Any]) -> str:
    """A value of the column's type, as SQL (the row only has to reach the CHECK)."""
    kind = column.type
    if isinstance(kind, Uuid):
        return f"'{uuid.uuid4()}'::uuid"
    if isinstance(kind, DateTime):
        return "now()"
    if isinstance(kind, Date):
        return "current_date"
    if isinstance(kind, Boolean):
        return "false"
    if isinstance(kind, Integer | Numeric):
        return "1"
    if isinstance(kind, JSON):
        return "'{}'::jsonb"
    length = getattr(kind, "length", None) or 32
    return f"'{uuid.uuid4().hex[:length]}'"  # unique, should the column be


def _insert(table: Table, column: str, status: str) -> str:
    """A raw INSERT of a row whose ``column`` holds ``status``, every other required column
    filled in; foreign keys are not checked (the session replays as a replica)."""
    values = {
        c.name: _literal(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.identity is None
    }
    values[column] = f"'{status}'"
    columns, literals = ", ".join(values), ", ".join(values.values())
    return f"INSERT INTO {table.name} ({columns}) VALUES ({literals})"  # noqa: S608 - no input


def _constraints(url: str) -> dict[str, str]:
    with psycopg.connect(libpq_url(url)) as conn:
        rows = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'c'"
        ).fetchall()
    return {name: definition for name, definition in rows}


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.column)
def test_an_unknown_status_is_refused_and_every_known_one_taken(
    migrated: str, lifecycle: Lifecycle[Any]
) -> None:
    table_name, column = lifecycle.column.split(".")
    table = Base.metadata.tables[table_name]
    with psycopg.connect(libpq_url(migrated)) as conn:
        conn.execute("SET session_replication_role = replica")
        with pytest.raises(psycopg.errors.CheckViolation, match=f"ck_{table_name}_{column}"):
            conn.execute(_insert(table, column, "bogus"))
        conn.rollback()
        conn.execute("SET session_replication_role = replica")
        for status in lifecycle.statuses:
            conn.execute(_insert(table, column, status.value))
        conn.rollback()  # nothing stays behind


def test_the_downgrade_drops_the_constraints_and_the_upgrade_restores_them(
    postgres_server_url: str,
) -> None:
    names = {f"ck_{lc.column.replace('.', '_')}" for lc in LIFECYCLES}
    with fresh_database(postgres_server_url, prefix="lb_checks_down") as url:
        upgrade_to_head(url)
        assert names <= set(_constraints(url))
        command.downgrade(alembic_config(url), "0016")
        assert not names & set(_constraints(url))
        upgrade_to_head(url)
        restored = _constraints(url)
        for lifecycle in LIFECYCLES:
            definition = restored[f"ck_{lifecycle.column.replace('.', '_')}"]
            assert all(f"'{s.value}'" in definition for s in lifecycle.statuses)
