"""Decision-log tampering done in PostgreSQL itself is reported through the API at the right
position, and the retention job erases personal data without breaking the chain.

These tests edit and truncate the decision log, so they run in a database of their own,
never in the session's shared one.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.retention import RetentionActivities
from adapters.storage.local import LocalDocumentStore
from config.crypto import FieldCipher, configure_field_cipher
from config.settings import Environment, Settings
from db.migrate import upgrade_to_head
from db.models import (
    AppUser,
    DecisionLogEntry,
    Enterprise,
    EnterpriseDocument,
    Institution,
    Loan,
    LoanApplication,
    LoanProduct,
    LoginAttempt,
    OtpChallenge,
)
from db.models_audit import RetentionErasure, RetentionRun
from db.repositories import DecisionLog
from db.session import create_engine, create_session_factory, libpq_url
from domain.retention import ERASED_NAME
from domain.roles import Role
from gateway.deps import AppContext
from server import create_app
from services.credentials import issue_token
from tests.support import fresh_database
from workflows.retention_contracts import RetentionInput

TRIGGER = "decision_log_append_only"


@pytest.fixture(scope="module")
def audit_db(postgres_server_url: str) -> Iterator[str]:
    with fresh_database(postgres_server_url, prefix="lb_audit") as url:
        upgrade_to_head(url)
        yield url


@pytest.fixture(scope="module")
def settings(audit_db: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment=Environment.TEST,
        database_url=audit_db,
        document_dir=tmp_path_factory.mktemp("audit-docs"),
    )


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    configure_field_cipher(FieldCipher.from_settings(settings))
    engine = create_engine(settings.database_url or "", pool_size=2)
    yield create_session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def api(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The real API over this database (no Temporal needed to verify the log)."""
    app = create_app(settings)
    engine = create_engine(settings.database_url or "", pool_size=2)
    app.state.ctx = AppContext(settings, engine, create_session_factory(engine), None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api"
    ) as client:
        yield client
    await engine.dispose()


def _headers(settings: Settings, role: Role) -> dict[str, str]:
    """A token of a real account in this role (a token outlives nothing: its user's session
    must be current)."""
    user_id = uuid.uuid4()
    with psycopg.connect(libpq_url(settings.database_url or ""), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO app_user (id, username, password_hash, role, display_name, is_active,"
            " session_version, created_at) VALUES (%s, %s, 'x', %s, '', true, 0, now())",
            (user_id, f"audit-{role.value}-{user_id.hex[:8]}", role.value),
        )
    token, _ = issue_token(
        settings,
        user_id=user_id,
        role=role.value,
        enterprise_id=None,
        institution_id=None,
        token_type="access",
    )
    return {"Authorization": f"Bearer {token}"}


def _sql(url: str, *statements: str) -> None:
    """Tamper as a database owner would: with the append-only trigger switched off."""
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute(f"ALTER TABLE decision_log DISABLE TRIGGER {TRIGGER}")
        try:
            for statement in statements:
                conn.execute(statement)  # type: ignore[arg-type]
        finally:
            conn.execute(f"ALTER TABLE decision_log ENABLE TRIGGER {TRIGGER}")


async def _fresh_chain(url: str, sessions: async_sessionmaker[AsyncSession], n: int = 6) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE decision_log, decision_log_checkpoint RESTART IDENTITY")
    async with sessions() as session, session.begin():
        log = DecisionLog(session)
        for i in range(1, n + 1):
            await log.append(
                actor="user:00000000-0000-4000-8000-000000000001",
                kind="application.approved",
                subject=f"application-{i}",
                payload={"amount": Decimal(f"{i}00000.00"), "grade": "A"},
            )


async def _verify(api: httpx.AsyncClient, settings: Settings) -> dict[str, Any]:
    response = await api.get(
        "/api/v1/audit/decision-log/verify", headers=_headers(settings, Role.REGULATOR)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _breaks(report: dict[str, Any]) -> list[tuple[int, int, str]]:
    return [(f["position"], f["seq"], f["kind"]) for f in report["findings"]]


async def test_the_database_itself_refuses_edits_of_the_log(
    audit_db: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await _fresh_chain(audit_db, sessions, 2)
    with (
        psycopg.connect(libpq_url(audit_db), autocommit=True) as conn,
        pytest.raises(psycopg.errors.RaiseException, match="append-only"),
    ):
        conn.execute("UPDATE decision_log SET note = 'x' WHERE seq = 1")


@pytest.mark.parametrize(
    ("tampering", "expected"),
    [
        (
            [
                "UPDATE decision_log SET payload = jsonb_set(payload, '{amount}', '\"9.99\"') "
                "WHERE seq = 3"
            ],
            [(3, 3, "content_altered")],
        ),
        (
            ["UPDATE decision_log SET actor = 'user:intruder' WHERE seq = 5"],
            [(5, 5, "content_altered")],
        ),
        (
            ["UPDATE decision_log SET hash = repeat('f', 64) WHERE seq = 4"],
            [(4, 4, "hash_altered")],
        ),
        (["DELETE FROM decision_log WHERE seq = 3"], [(3, 4, "row_deleted")]),
        (["DELETE FROM decision_log WHERE seq = 1"], [(1, 2, "row_deleted")]),
        (
            [
                "UPDATE decision_log SET seq = -2 WHERE seq = 2",
                "UPDATE decision_log SET seq = 2 WHERE seq = 3",
                "UPDATE decision_log SET seq = 3 WHERE seq = -2",
            ],
            [(2, 2, "reordered")],
        ),
    ],
    ids=["payload", "actor", "hash", "deleted", "deleted-first", "reordered"],
)
async def test_tampering_in_postgresql_is_reported_at_its_position(
    audit_db: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    api: httpx.AsyncClient,
    tampering: list[str],
    expected: list[tuple[int, int, str]],
) -> None:
    await _fresh_chain(audit_db, sessions)
    assert (await _verify(api, settings))["intact"] is True
    _sql(audit_db, *tampering)
    report = await _verify(api, settings)
    assert report["intact"] is False
    assert _breaks(report) == expected


async def test_a_cut_tail_is_caught_by_the_checkpoint_compliance_recorded(
    audit_db: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    api: httpx.AsyncClient,
) -> None:
    await _fresh_chain(audit_db, sessions)
    regulator = await api.post(
        "/api/v1/audit/decision-log/verify", headers=_headers(settings, Role.REGULATOR)
    )
    assert regulator.status_code == 403  # regulators read; they record nothing
    recorded = await api.post(
        "/api/v1/audit/decision-log/verify", headers=_headers(settings, Role.COMPLIANCE)
    )
    assert recorded.status_code == 200 and recorded.json()["checkpoint_recorded"] is True
    _sql(audit_db, "DELETE FROM decision_log WHERE seq = 6")  # the links alone cannot tell
    report = await _verify(api, settings)
    assert _breaks(report) == [(6, 6, "anchor_mismatch")]
    officer = await api.get(
        "/api/v1/audit/decision-log/verify", headers=_headers(settings, Role.OFFICER)
    )
    assert officer.status_code == 403


async def _seed_retention_cases(
    sessions: async_sessionmaker[AsyncSession], store: LocalDocumentStore
) -> tuple[dict[str, uuid.UUID], str]:
    """An old rejected registration with its ID photo, an old declined applicant, a loan
    closed six years ago, and recent records of each kind that must stay."""
    old = datetime.now(UTC) - timedelta(days=6 * 365)
    ids: dict[str, uuid.UUID] = {}
    async with sessions() as session, session.begin():
        admin = AppUser(
            username=f"adm{uuid.uuid4().hex[:6]}", password_hash="x", role="platform_admin"
        )
        session.add(admin)
        await session.flush()
        institution = Institution(code=f"RET{uuid.uuid4().hex[:5]}", name="保留银行", kind="bank")
        session.add(institution)
        await session.flush()
        product = LoanProduct(institution_id=institution.id, code="RET-1", name="保留产品")
        session.add(product)
        await session.flush()

        def enterprise(name: str, status: str, created: datetime, uscc: str) -> Enterprise:
            return Enterprise(
                name=name,
                uscc=uscc,
                registered_capital=Decimal("1000000.00"),
                founding_date=date(2015, 1, 1),
                industry="C",
                region="440300",
                legal_rep_name="王五",
                legal_rep_id_number="11010519491231002X",
                legal_rep_id_hash="h-id",
                mobile="13800138000",
                mobile_hash="h-mobile",
                email="wang@example.com",
                status=status,
                workflow_id=f"enterprise-{name}",
                created_at=created,
            )

        rejected_old = enterprise(
            "old-rejected", "rejected", old, f"9144030{uuid.uuid4().hex[:11].upper()}"
        )
        rejected_new = enterprise(
            "new-rejected", "rejected", datetime.now(UTC), f"9144031{uuid.uuid4().hex[:11].upper()}"
        )
        declined_old = enterprise(
            "old-declined", "verified", old, f"9144032{uuid.uuid4().hex[:11].upper()}"
        )
        borrower = enterprise(
            "old-borrower", "verified", old, f"9144033{uuid.uuid4().hex[:11].upper()}"
        )
        session.add_all([rejected_old, rejected_new, declined_old, borrower])
        await session.flush()
        photo = b"\xff\xd8\xff id front photo"
        digest = store.put(photo)
        session.add(
            EnterpriseDocument(
                enterprise_id=rejected_old.id,
                kind="id_front",
                content_type="image/jpeg",
                size_bytes=len(photo),
                sha256=digest,
            )
        )

        def application(owner: Enterprise, status: str) -> LoanApplication:
            return LoanApplication(
                enterprise_id=owner.id,
                institution_id=institution.id,
                product_id=product.id,
                product_version=1,
                amount=Decimal("200000.00"),
                term_months=12,
                repayment_method="equal_installment",
                status=status,
                workflow_id=f"application-{uuid.uuid4()}",
                created_at=old,
            )

        declined = application(declined_old, "declined")
        disbursed = application(borrower, "disbursed")
        session.add_all([declined, disbursed])
        await session.flush()
        loan = Loan(
            application_id=disbursed.id,
            enterprise_id=borrower.id,
            institution_id=institution.id,
            principal=Decimal("200000.00"),
            annual_rate=Decimal("0.045"),
            term_months=12,
            repayment_method="equal_installment",
            account="6222020200112233445",
            signed_name="王五",
            status="closed",
            closed_at=old + timedelta(days=200),
            created_at=old,
        )
        session.add(loan)
        session.add(OtpChallenge(enterprise_id=rejected_old.id, code_hash="c", created_at=old))
        session.add(OtpChallenge(enterprise_id=rejected_new.id, code_hash="c"))
        session.add(LoginAttempt(username="someone", at=old, succeeded=False))
        session.add(LoginAttempt(username="someone", at=datetime.now(UTC), succeeded=False))
        await session.flush()
        ids.update(
            rejected_old=rejected_old.id,
            rejected_new=rejected_new.id,
            declined_old=declined_old.id,
            borrower=borrower.id,
            loan=loan.id,
        )
    return ids, digest


async def test_retention_erases_personal_data_and_the_chain_still_verifies(
    audit_db: str,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    api: httpx.AsyncClient,
    tmp_path: Path,
) -> None:
    await _fresh_chain(audit_db, sessions)
    store = LocalDocumentStore(tmp_path, b"k" * 32)
    ids, digest = await _seed_retention_cases(sessions, store)
    assert store.get(digest)
    activities = RetentionActivities(sessions, store.delete)
    result = await activities.apply_retention(
        RetentionInput(as_of=datetime.now(UTC).date(), run_key="retention-test-1")
    )
    assert result.chain_intact is True
    assert result.counts["enterprise_unverified"] == 1
    assert result.counts["enterprise_relationship_ended"] == 2  # declined, and the old loan
    assert result.counts["loan_personal_fields"] == 1
    assert result.counts["otp_challenge"] == 1 and result.counts["login_attempt"] == 1
    assert result.counts["enterprise_document"] == 1
    with pytest.raises(KeyError):
        store.get(digest)  # the ID photo's file is gone

    async with sessions() as session:
        for key in ("rejected_old", "declined_old", "borrower"):
            erased = await session.get(Enterprise, ids[key])
            assert erased is not None
            assert erased.legal_rep_name == ERASED_NAME and erased.legal_rep_id_number == ""
            assert erased.mobile == "" and erased.mobile_hash == "" and erased.email is None
        kept = await session.get(Enterprise, ids["rejected_new"])
        assert kept is not None and kept.legal_rep_id_number == "11010519491231002X"
        loan = await session.get(Loan, ids["loan"])
        assert loan is not None and loan.account == "" and loan.signed_name is None
        assert loan.principal == Decimal("200000.00")  # the money facts stay
        assert await session.scalar(select(func.count()).select_from(OtpChallenge)) == 1
        assert await session.scalar(select(func.count()).select_from(LoginAttempt)) == 1
        assert await session.scalar(select(func.count()).select_from(EnterpriseDocument)) == 0
        logged = await session.scalar(
            select(DecisionLogEntry).where(DecisionLogEntry.kind == "retention.applied")
        )
        assert logged is not None and logged.payload["counts"]["loan_personal_fields"] == 1
        erasures = await session.scalar(select(func.count()).select_from(RetentionErasure))
        assert erasures == 4  # three enterprises and one loan, once each
        # No plaintext personal value is left in any text column of the erased rows.
        raw = await session.execute(
            select(func.count()).select_from(Enterprise).where(Enterprise.legal_rep_name == "王五")
        )
        assert raw.scalar() == 1  # only the recent, kept registration

    report = await _verify(api, settings)
    assert report["intact"] is True and report["checkpoints_checked"] == 1

    again = await activities.apply_retention(
        RetentionInput(as_of=datetime.now(UTC).date(), run_key="retention-test-1")
    )
    assert again == result  # a retried activity answers its first result
    second = await activities.apply_retention(
        RetentionInput(as_of=datetime.now(UTC).date(), run_key="retention-test-2")
    )
    assert all(count == 0 for count in second.counts.values())  # nothing erased twice
    async with sessions() as session:
        runs = await session.scalar(select(func.count()).select_from(RetentionRun))
        assert runs == 2
    assert (await _verify(api, settings))["intact"] is True
