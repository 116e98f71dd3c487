"""Loan document PDFs: APR shown, amounts and Chinese labels present, Noto CJK embedded."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from documents.environment import shared_environment
from documents.loan_documents import (
    AcceptanceView,
    ExtensionView,
    LoanTermsView,
    SettlementView,
    StatementLine,
    StatementTransaction,
    StatementView,
    document_sha256,
    render_contract_addendum,
    render_loan_contract,
    render_loan_statement,
    render_offer_letter,
    render_settlement_certificate,
    schedule_preview,
)
from domain.apr import apr_for_schedule
from domain.classification import RiskCategory
from domain.schedule import (
    RepaymentMethod,
    Schedule,
    ScheduleRequest,
    build_schedule,
    remaining_schedule,
)
from domain.servicing import InstallmentStatus

needs_poppler = pytest.mark.skipif(
    shutil.which("pdffonts") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdffonts, pdftotext) not installed",
)

BORROWER = "杭州云桥科技有限公司"
LENDER = "杭州联合农村商业银行"
MASKED_USCC = "9133********4D5E"
LOAN_REF = "LB-LN-2026-000042"
DISBURSED = date(2026, 12, 15)
UPFRONT_FEE = Decimal("100.00")


def _schedule(amount: str, rate: str, months: int) -> Schedule:
    return build_schedule(
        ScheduleRequest(
            principal=Decimal(amount),
            annual_rate=Decimal(rate),
            term_periods=months,
            method=RepaymentMethod.EQUAL_INSTALLMENT,
            start_date=DISBURSED,
        )
    )


def _terms(amount: str, rate: str, months: int, fee: Decimal = Decimal(0)) -> LoanTermsView:
    schedule = _schedule(amount, rate, months)
    return LoanTermsView(
        reference=LOAN_REF,
        borrower_name=BORROWER,
        masked_uscc=MASKED_USCC,
        institution_name=LENDER,
        product_name="科创贷 Tech Loan",
        amount=Decimal(amount),
        annual_rate=Decimal(rate),
        apr=apr_for_schedule(Decimal(amount), schedule, fee),
        term_months=months,
        method_label="等额本息 equal installment",
        issued_on=date(2026, 11, 28),
        expires_on=date(2026, 12, 5),
        schedule=schedule,
        upfront_fee=fee,
    )


# ¥10,000 at 6 % over 12 months, equal installments of ¥860.66 (DOMAIN.md), with a ¥100
# upfront fee so that the APR (7.89 %) differs from the nominal rate (6.00 %).
TERMS_12 = _terms("10000", "0.06", 12, UPFRONT_FEE)
TERMS_36 = _terms("500000", "0.0435", 36)
TERMS_6 = _terms("10000", "0.06", 6)
APR_12 = "7.89%"


def _pdf_text(path: Path) -> str:
    """The PDF's text without any whitespace (pdftotext breaks lines and table cells)."""
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return "".join(text.split())


def _compact(text: str) -> str:
    return "".join(text.split())


def _write(factory: pytest.TempPathFactory, name: str, pdf: bytes) -> Path:
    path = factory.mktemp("loan_documents") / f"{name}.pdf"
    path.write_bytes(pdf)
    return path


@pytest.fixture(scope="module")
def offer_bytes() -> bytes:
    return render_offer_letter(TERMS_12)


@pytest.fixture(scope="module")
def offer_pdf(tmp_path_factory: pytest.TempPathFactory, offer_bytes: bytes) -> Path:
    return _write(tmp_path_factory, "offer_letter", offer_bytes)


@pytest.fixture(scope="module")
def offer_36_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory, "offer_letter_36", render_offer_letter(TERMS_36))


@pytest.fixture(scope="module")
def offer_6_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory, "offer_letter_6", render_offer_letter(TERMS_6))


@pytest.fixture(scope="module")
def acceptance(offer_bytes: bytes) -> AcceptanceView:
    return AcceptanceView(
        typed_name="张三",
        accepted_at=datetime(2026, 11, 29, 10, 15, 3, tzinfo=timezone(timedelta(hours=8))),
        offer_sha256=document_sha256(offer_bytes),
        masked_account="6222 **** **** 1234",
    )


@pytest.fixture(scope="module")
def contract_pdf(tmp_path_factory: pytest.TempPathFactory, acceptance: AcceptanceView) -> Path:
    return _write(tmp_path_factory, "loan_contract", render_loan_contract(TERMS_12, acceptance))


def _extension() -> ExtensionView:
    original = TERMS_36.schedule
    outstanding = Decimal("200000.00")
    # 12 installments left, stretched over 18: a 6-month extension.
    new = remaining_schedule(original, outstanding, 12, 18)
    return ExtensionView(
        reference=LOAN_REF,
        borrower_name=BORROWER,
        masked_uscc=MASKED_USCC,
        institution_name=LENDER,
        agreed_on=date(2028, 11, 1),
        original_maturity=original.maturity_date,
        new_maturity=new.maturity_date,
        extension_months=6,
        cumulative_extension_months=6,
        outstanding_principal=outstanding,
        annual_rate=Decimal("0.0435"),
        apr=apr_for_schedule(outstanding, new),
        schedule=new,
        restructuring=True,
        observation_until=date(2030, 1, 15),
        guarantor_consent_ref="GC-2028-0007",
        max_cumulative_extension_months=18,
    )


EXTENSION = _extension()


@pytest.fixture(scope="module")
def addendum_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory, "contract_addendum", render_contract_addendum(EXTENSION))


SETTLEMENT = SettlementView(
    certificate_no="LB-SC-2027-000009",
    reference=LOAN_REF,
    borrower_name=BORROWER,
    masked_uscc=MASKED_USCC,
    institution_name=LENDER,
    amount_disbursed=Decimal("10000.00"),
    disbursed_on=DISBURSED,
    settled_on=date(2027, 12, 15),
    principal_paid=Decimal("10000.00"),
    interest_paid=TERMS_12.total_interest,
    penalty_paid=Decimal("3.21"),
    fees_paid=UPFRONT_FEE,
    issued_on=date(2027, 12, 16),
)


@pytest.fixture(scope="module")
def settlement_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(
        tmp_path_factory, "settlement_certificate", render_settlement_certificate(SETTLEMENT)
    )


def _statement() -> StatementView:
    status = InstallmentStatus
    statuses = [status.PAID] * 3 + [status.PARTIALLY_PAID, status.OVERDUE, status.DUE]
    statuses += [status.UPCOMING] * 6
    lines = []
    for row, state in zip(TERMS_12.schedule.installments, statuses, strict=True):
        penalty = Decimal("1.29") if state is status.OVERDUE else Decimal("0.00")
        paid = {status.PAID: row.payment, status.PARTIALLY_PAID: Decimal("400.00")}
        lines.append(
            StatementLine(
                row.number,
                row.due_date,
                row.principal,
                row.interest,
                penalty,
                paid.get(state, Decimal("0.00")),
                state,
            )
        )
    return StatementView(
        reference=LOAN_REF,
        borrower_name=BORROWER,
        masked_uscc=MASKED_USCC,
        institution_name=LENDER,
        as_of=date(2027, 6, 20),
        outstanding_principal=Decimal("7555.84"),
        days_past_due=36,
        classification=RiskCategory.SPECIAL_MENTION,
        credit_balance=Decimal("12.50"),
        lines=tuple(lines),
        transactions=(
            StatementTransaction(DISBURSED, "放款 disbursement", Decimal("9900.00"), "扣费"),
            StatementTransaction(date(2027, 1, 15), "还款 repayment", Decimal("860.66"), "第1期"),
            StatementTransaction(date(2027, 4, 15), "还款 repayment", Decimal("412.50")),
        ),
    )


STATEMENT = _statement()


@pytest.fixture(scope="module")
def statement_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(tmp_path_factory, "loan_statement", render_loan_statement(STATEMENT))


ALL_DOCUMENTS = [
    "offer_pdf",
    "contract_pdf",
    "addendum_pdf",
    "settlement_pdf",
    "statement_pdf",
]


def test_fixture_matches_the_domain_example() -> None:
    installments = TERMS_12.schedule.installments
    assert {row.payment for row in installments[:-1]} == {Decimal("860.66")}
    assert installments[-1].payment == Decimal("860.70")
    assert TERMS_12.apr == Decimal("0.0789")


@pytest.mark.parametrize("document", ALL_DOCUMENTS)
def test_every_document_is_a_pdf(document: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(document)
    assert path.read_bytes().startswith(b"%PDF-")


@needs_poppler
@pytest.mark.parametrize("document", ALL_DOCUMENTS)
def test_every_document_embeds_a_noto_cjk_font(
    document: str, request: pytest.FixtureRequest
) -> None:
    path: Path = request.getfixturevalue(document)
    listing = subprocess.run(
        ["pdffonts", str(path)], capture_output=True, text=True, check=True
    ).stdout
    rows = listing.splitlines()[2:]
    # Columns: name type encoding emb sub uni object-id; the type may hold spaces.
    embedded_cjk = [
        row.split()[0]
        for row in rows
        if "Noto" in row and "CJK" in row and row.split()[-5] == "yes"
    ]
    assert embedded_cjk, listing
    assert all(row.split()[-5] == "yes" for row in rows), listing  # no unembedded fallback


@needs_poppler
def test_offer_letter_text(offer_pdf: Path) -> None:
    text = _pdf_text(offer_pdf)
    for expected in (
        "贷款要约",
        "年化利率（APR）",
        "Annualpercentagerate(APR)",
        APR_12,
        "¥10,000.00",
        "6.00%",  # the nominal rate
        "¥860.66",
        "¥327.96",  # total interest
        "¥10,327.96",  # total repayment
        "¥100.00",  # upfront fee
        "¥9,900.00",  # amount received
        "12个月",
        "等额本息",
        "2026年12月5日",  # valid until
        "9.00%",  # penalty rate 6.00 % × 1.5
        "SHA-256",
        BORROWER,
        MASKED_USCC,
    ):
        assert expected in text, expected
    # The APR comes before every other figure: the box sits at the top of the page.
    assert text.index(APR_12) < text.index("¥10,000.00") < text.index("6.00%")


def test_offer_preview_rows() -> None:
    long = schedule_preview(TERMS_36.schedule)
    assert [row.number for row in long.head + long.tail] == [1, 2, 3, 4, 5, 6, 36]
    assert long.omitted == 29
    short = schedule_preview(TERMS_6.schedule)
    assert [row.number for row in short.head] == [1, 2, 3, 4, 5, 6]
    assert (short.omitted, short.tail) == (0, ())
    seven = schedule_preview(_schedule("7000", "0.06", 7))
    assert (len(seven.head), seven.omitted, seven.tail) == (7, 0, ())


@pytest.mark.parametrize(("terms", "rows"), [(TERMS_36, 7), (TERMS_6, 6), (TERMS_12, 7)])
def test_offer_html_lists_the_preview_rows(terms: LoanTermsView, rows: int) -> None:
    html = (
        shared_environment()
        .get_template("pdf/offer_letter.html")
        .render({"terms": terms, "preview": schedule_preview(terms.schedule)})
    )
    assert html.count('<tr class="installment">') == rows
    assert ('class="omitted"' in html) == (len(terms.schedule.installments) > rows)


@needs_poppler
def test_offer_pdf_previews_six_rows_and_the_last_of_36(offer_36_pdf: Path) -> None:
    text = _pdf_text(offer_36_pdf)
    dates = [row.due_date.isoformat() for row in TERMS_36.schedule.installments]
    assert all(day in text for day in dates[:6])
    assert not any(day in text for day in dates[6:35])
    assert dates[35] in text
    assert "省略29期" in text
    assert "¥500,000.00" in text


@needs_poppler
def test_offer_pdf_lists_every_row_of_a_6_month_schedule(offer_6_pdf: Path) -> None:
    text = _pdf_text(offer_6_pdf)
    assert all(row.due_date.isoformat() in text for row in TERMS_6.schedule.installments)
    assert "省略" not in text
    assert "…" not in text


@needs_poppler
def test_loan_contract_text(contract_pdf: Path, acceptance: AcceptanceView) -> None:
    text = _pdf_text(contract_pdf)
    for expected in (
        "借款合同",
        "年化利率（APR）",
        APR_12,
        "¥10,000.00",
        "6.00%",
        "罚息",
        "9.00%（6.00%×1.5）",
        "提前还款",
        "展期",
        "累计展期不超过12个月",  # short-term loan: at most the original term
        "2026-11-2910:15:03+08:00",
        "张三",
        "6222********1234",
        LENDER,
        BORROWER,
        "¥327.96",
        acceptance.offer_sha256,
    ):
        assert expected in text, expected
    assert all(row.due_date.isoformat() in text for row in TERMS_12.schedule.installments)
    assert text.index(APR_12) < text.index("¥10,000.00")


@needs_poppler
def test_contract_addendum_text(addendum_pdf: Path) -> None:
    text = _pdf_text(addendum_pdf)
    for expected in (
        "展期协议",
        "年化利率（APR）",
        "4.35%",
        "¥200,000.00",
        "原到期日",
        "2029年12月15日",
        "展期后到期日",
        "2030年6月15日",
        "本次展期期限",
        "累计展期期限",
        "重组restructuring—observationperioduntil2030-01-15",
        "GC-2028-0007",
        LOAN_REF,
    ):
        assert expected in text, expected
    assert all(row.due_date.isoformat() in text for row in EXTENSION.schedule.installments)


@needs_poppler
def test_settlement_certificate_text(settlement_pdf: Path) -> None:
    text = _pdf_text(settlement_pdf)
    for expected in (
        "结清证明",
        "LB-SC-2027-000009",
        "¥10,000.00",
        "2026年12月15日",
        "2027年12月15日",
        "¥327.96",
        "¥3.21",
        "¥10,431.17",  # principal + interest + penalty + fees
        "无任何未结清款项",
        "第1页/共1页",
        BORROWER,
    ):
        assert expected in text, expected


@needs_poppler
def test_loan_statement_text(statement_pdf: Path) -> None:
    text = _pdf_text(statement_pdf)
    for expected in (
        "贷款对账单",
        "¥7,555.84",
        "36天",
        "关注Specialmention",
        "¥12.50",
        "已还清Paid",
        "部分已还Partiallypaid",
        "逾期Overdue",
        "当期应还Due",
        "未到期Upcoming",
        "¥861.95",  # installment 5 with its penalty
        "放款disbursement",
        "¥9,900.00",
        "第1期",
        "¥412.50",
    ):
        assert expected in text, expected


def test_document_sha256_is_the_hex_digest_of_the_bytes(offer_bytes: bytes) -> None:
    digest = document_sha256(offer_bytes)
    assert digest == document_sha256(bytes(offer_bytes)) == hashlib.sha256(offer_bytes).hexdigest()
    assert len(digest) == 64


def test_document_sha256_differs_for_different_terms(offer_bytes: bytes, offer_6_pdf: Path) -> None:
    assert document_sha256(offer_bytes) != document_sha256(offer_6_pdf.read_bytes())


def test_rendering_the_same_offer_again_gives_the_same_bytes(offer_bytes: bytes) -> None:
    # The hash recorded on acceptance can be checked by rendering the offer again.
    assert document_sha256(render_offer_letter(TERMS_12)) == document_sha256(offer_bytes)


def test_templates_escape_the_views() -> None:
    terms = dataclasses.replace(TERMS_6, borrower_name="<script>x</script>")
    html = (
        shared_environment()
        .get_template("pdf/offer_letter.html")
        .render({"terms": terms, "preview": schedule_preview(terms.schedule)})
    )
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_terms_must_match_their_schedule() -> None:
    with pytest.raises(ValueError, match="amount"):
        dataclasses.replace(TERMS_12, amount=Decimal("20000"))
    with pytest.raises(ValueError, match="months"):
        dataclasses.replace(TERMS_12, term_months=24)


def test_acceptance_needs_a_sha256_digest() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        AcceptanceView(
            typed_name="张三",
            accepted_at=datetime(2026, 11, 29, 10, 0, tzinfo=UTC),
            offer_sha256="not-a-digest",
            masked_account="6222 **** 1234",
        )


def test_restructuring_needs_an_observation_period() -> None:
    with pytest.raises(ValueError, match="observation"):
        dataclasses.replace(EXTENSION, observation_until=None)
    with pytest.raises(ValueError, match="new maturity"):
        dataclasses.replace(EXTENSION, new_maturity=EXTENSION.original_maturity)


def test_statement_line_amounts() -> None:
    partial = STATEMENT.lines[3]
    assert partial.status is InstallmentStatus.PARTIALLY_PAID
    assert partial.amount_due == Decimal("860.66")
    assert partial.unpaid == Decimal("460.66")
    assert STATEMENT.lines[0].unpaid == Decimal("0.00")
    assert (partial.status_zh, partial.status_en) == ("部分已还", "Partially paid")
    assert STATEMENT.classification_en == "Special mention"
