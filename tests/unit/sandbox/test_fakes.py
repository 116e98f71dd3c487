"""In-memory fakes: they satisfy the ports and keep the providers' essential rules."""

from __future__ import annotations

import inspect
from datetime import date
from decimal import Decimal

import pytest

from adapters.bureau.fake import FakeCreditBureau
from adapters.bureau.http import HttpCreditBureau
from adapters.bureau.protocol import CreditBureau, CreditReport
from adapters.errors import IdempotencyConflict, ProviderUnavailable
from adapters.identity.fake import FakeIdentityVerifier
from adapters.identity.http import HttpIdentityVerifier
from adapters.identity.protocol import (
    IdentityResult,
    IdentityVerificationRequest,
    IdentityVerifier,
)
from adapters.notification.fake import FakeEmailSender, FakeSmsGateway
from adapters.notification.http import HttpSmsGateway
from adapters.notification.protocol import EmailSender, OutgoingEmail, OutgoingSms, SmsGateway
from adapters.notification.smtp import SmtpEmailSender
from adapters.payment.fake import FakePaymentGateway
from adapters.payment.http import HttpPaymentGateway
from adapters.payment.protocol import (
    PaymentDirection,
    PaymentGateway,
    PaymentRequest,
    PaymentStatus,
)
from adapters.registry.fake import FakeEnterpriseRegistry
from adapters.registry.http import HttpEnterpriseRegistry
from adapters.registry.protocol import EnterpriseRecord, EnterpriseRegistry, EnterpriseStatus
from adapters.tax.fake import FakeTaxDataProvider
from adapters.tax.http import HttpTaxDataProvider
from adapters.tax.protocol import TaxDataProvider, TaxFiling, TaxGrade, TaxProfile

USCC = "91310000MA1FL1MMXL"


def order(
    key: str = "disb-1", amount: str = "1000.00", account: str = "6222000011112222"
) -> PaymentRequest:
    return PaymentRequest(
        idempotency_key=key,
        direction=PaymentDirection.DISBURSEMENT,
        amount=Decimal(amount),
        account=account,
        reference="loan-1",
    )


@pytest.mark.parametrize(
    ("port", "fake", "http"),
    [
        (IdentityVerifier, FakeIdentityVerifier, HttpIdentityVerifier),
        (EnterpriseRegistry, FakeEnterpriseRegistry, HttpEnterpriseRegistry),
        (CreditBureau, FakeCreditBureau, HttpCreditBureau),
        (TaxDataProvider, FakeTaxDataProvider, HttpTaxDataProvider),
        (PaymentGateway, FakePaymentGateway, HttpPaymentGateway),
        (SmsGateway, FakeSmsGateway, HttpSmsGateway),
        (EmailSender, FakeEmailSender, SmtpEmailSender),
    ],
)
def test_fakes_and_real_adapters_offer_every_method_of_their_port(
    port: type, fake: type, http: type
) -> None:
    methods = [n for n, v in vars(port).items() if inspect.iscoroutinefunction(v)]

    assert methods
    for name in methods:
        expected = inspect.signature(getattr(port, name))
        for implementation in (fake, http):
            actual = getattr(implementation, name)
            assert inspect.iscoroutinefunction(actual)
            assert inspect.signature(actual) == expected


def test_fakes_need_no_arguments_and_type_check_as_their_ports() -> None:
    """mypy on this file proves structural conformance; at runtime each fake builds bare."""
    ports: tuple[
        IdentityVerifier,
        EnterpriseRegistry,
        CreditBureau,
        TaxDataProvider,
        PaymentGateway,
        SmsGateway,
        EmailSender,
    ] = (
        FakeIdentityVerifier(),
        FakeEnterpriseRegistry(),
        FakeCreditBureau(),
        FakeTaxDataProvider(),
        FakePaymentGateway(),
        FakeSmsGateway(),
        FakeEmailSender(),
    )

    assert len(ports) == 7


async def test_fake_bank_pays_once_per_key_and_replays() -> None:
    bank = FakePaymentGateway()

    first = await bank.submit(order())
    again = await bank.submit(order())

    assert first.status is PaymentStatus.SUCCEEDED and not first.replayed
    assert again.replayed and again.provider_reference == first.provider_reference
    assert len(bank.payments) == 1
    assert await bank.get("disb-1") == first
    assert await bank.list_by_reference("loan-1") == [first]


async def test_fake_bank_refuses_key_reuse_with_another_order() -> None:
    bank = FakePaymentGateway()
    await bank.submit(order())

    with pytest.raises(IdempotencyConflict):
        await bank.submit(order(amount="1000.01"))
    assert len(bank.payments) == 1


async def test_fake_bank_lost_answer_pays_and_the_retry_replays() -> None:
    bank = FakePaymentGateway()
    bank.lose_next_answers()

    with pytest.raises(ProviderUnavailable):
        await bank.submit(order())
    retried = await bank.submit(order())

    assert retried.replayed
    assert len(bank.payments) == 1


async def test_fake_bank_fails_configured_accounts_and_scripted_outages() -> None:
    bank = FakePaymentGateway(failing_accounts={"6222000010000000": "INSUFFICIENT_FUNDS"})
    bank.fail_next(ProviderUnavailable("bank", "down"))

    with pytest.raises(ProviderUnavailable):
        await bank.submit(order(account="6222000010000000"))
    result = await bank.submit(order(account="6222000010000000"))

    assert bank.payments == [result]
    assert result.status is PaymentStatus.FAILED
    assert result.failure_code == "INSUFFICIENT_FUNDS"


async def test_fake_identity_matches_by_default_and_obeys_overrides() -> None:
    verifier = FakeIdentityVerifier()
    verifier.set_result("110105199001011235", IdentityResult.INCONCLUSIVE, Decimal("0.6"))

    default = await verifier.verify(
        IdentityVerificationRequest(name="张伟", id_number="11010519491231002X")
    )
    chosen = await verifier.verify(
        IdentityVerificationRequest(name="张伟", id_number="110105199001011235")
    )

    assert default.result is IdentityResult.MATCH
    assert chosen.result is IdentityResult.INCONCLUSIVE
    assert len(verifier.requests) == 2


async def test_fake_lookups_know_only_what_they_were_given() -> None:
    record = EnterpriseRecord(
        uscc=USCC,
        name="上海恒信科技有限公司",
        legal_representative="王伟",
        status=EnterpriseStatus.ACTIVE,
        registered_capital=Decimal("5000000.00"),
        founding_date=date(2015, 6, 1),
        industry_code="I",
        industry_name="信息传输、软件和信息技术服务业",
        region_code="310000",
        region_name="上海市",
    )
    report = CreditReport(
        report_id="CR1",
        uscc=USCC,
        current_overdue=False,
        overdue_count_24m=0,
        outstanding_loans_count=0,
        outstanding_loans_amount=Decimal("0.00"),
        sanctions_hit=False,
        score=780,
    )
    profile = TaxProfile(
        uscc=USCC,
        tax_grade=TaxGrade.A,
        filings=(
            TaxFiling(
                year=2024,
                revenue=Decimal("1.00"),
                tax_paid=Decimal("0.05"),
                profit=Decimal("0.10"),
            ),
        ),
    )
    registry = FakeEnterpriseRegistry([record])
    bureau = FakeCreditBureau()
    bureau.add(report)
    tax = FakeTaxDataProvider([profile])
    tax.fail_next(ProviderUnavailable("tax", "down"))

    assert await registry.get_enterprise(USCC) == record
    assert await registry.get_enterprise("91350100M000100Y43") is None
    assert await bureau.get_report(USCC) == report
    with pytest.raises(ProviderUnavailable):
        await tax.get_filings(USCC)
    assert await tax.get_filings(USCC) == profile
    assert tax.lookups == [USCC, USCC]


async def test_fake_notifications_keep_what_was_sent() -> None:
    sms = FakeSmsGateway()
    mail = FakeEmailSender()

    await sms.send_sms(OutgoingSms(to="13800138000", text="验证码 1"))
    await sms.send_sms(OutgoingSms(to="13900139000", text="其他"))
    await sms.send_sms(OutgoingSms(to="13800138000", text="验证码 2"))
    receipt = await mail.send_email(OutgoingEmail(to=("a@example.com",), subject="s", text="t"))

    assert [m.text for m in sms.messages_to("13800138000")] == ["验证码 1", "验证码 2"]
    assert mail.sent[0].subject == "s"
    assert receipt.message_id.startswith("<fake-")
