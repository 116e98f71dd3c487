"""The sandbox over real sockets: durability across a crash, SMTP delivery and timeouts."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from adapters.errors import IdempotencyConflict, ProviderUnavailable
from adapters.identity.http import HttpIdentityVerifier
from adapters.identity.protocol import IdentityResult, IdentityVerificationRequest
from adapters.notification.http import HttpSmsGateway
from adapters.notification.protocol import OutgoingEmail, OutgoingSms
from adapters.notification.smtp import SmtpEmailSender
from adapters.payment.http import HttpPaymentGateway
from adapters.payment.protocol import PaymentDirection, PaymentRequest, PaymentStatus
from adapters.registry.http import HttpEnterpriseRegistry
from sandbox.codes import with_id_check_digit, with_uscc_check_char
from tests.support import SandboxProcess

USCC = with_uscc_check_char("91310000MA1FL1123")


def disbursement(amount: str = "150000.00") -> PaymentRequest:
    return PaymentRequest(
        idempotency_key="disb-loan-77",
        direction=PaymentDirection.DISBURSEMENT,
        amount=Decimal(amount),
        account="6222020200112233",
        reference="loan-77",
    )


async def test_a_crash_and_restart_does_not_make_the_bank_pay_twice(tmp_path: Path) -> None:
    process = SandboxProcess(tmp_path)
    await process.start()
    try:
        async with HttpPaymentGateway(process.base_url, 2.0) as bank:
            first = await bank.submit(disbursement())
        await process.kill()
        await process.start()
        async with HttpPaymentGateway(process.base_url, 2.0) as bank:
            replay = await bank.submit(disbursement())
            payments = await bank.list_by_reference("loan-77")
            with pytest.raises(IdempotencyConflict):
                await bank.submit(disbursement(amount="150000.01"))
    finally:
        await process.kill()

    assert first.status is PaymentStatus.SUCCEEDED and not first.replayed
    assert replay.replayed
    assert replay.provider_reference == first.provider_reference
    assert payments == [first]


async def test_email_through_the_adapter_arrives_in_the_mail_outbox(
    sandbox: SandboxProcess, control: httpx.AsyncClient
) -> None:
    sender = SmtpEmailSender("127.0.0.1", sandbox.smtp_port, "noreply@loanbridge.test", 2.0)

    receipt = await sender.send_email(
        OutgoingEmail(
            to=("cfo@example.com",),
            subject="放款通知 loan-77",
            text="您的贷款 150,000.00 元已发放。",
        )
    )
    outbox = (await control.get("/mail/v1/messages", params={"to": "cfo@example.com"})).json()

    assert receipt.message_id.startswith("<")
    [mail] = outbox["messages"]
    assert mail["subject"] == "放款通知 loan-77"
    assert mail["text"].strip() == "您的贷款 150,000.00 元已发放。"
    assert mail["mail_from"] == "noreply@loanbridge.test"


async def test_a_mail_fault_makes_the_email_adapter_report_unavailable(
    sandbox: SandboxProcess, control: httpx.AsyncClient
) -> None:
    await control.post("/sandbox/v1/faults", json={"provider": "mail", "mode": "error"})
    sender = SmtpEmailSender("127.0.0.1", sandbox.smtp_port, "noreply@loanbridge.test", 2.0)
    mail = OutgoingEmail(to=("ops@example.com",), subject="s", text="t")

    with pytest.raises(ProviderUnavailable) as caught:
        await sender.send_email(mail)
    await sender.send_email(mail)

    assert "SMTP 451" in str(caught.value)
    outbox = (await control.get("/mail/v1/messages", params={"to": "ops@example.com"})).json()
    assert len(outbox["messages"]) == 1


async def test_adapter_gives_up_on_a_timeout_fault_within_its_timeout(
    sandbox: SandboxProcess, control: httpx.AsyncClient
) -> None:
    await control.post("/sandbox/v1/faults", json={"provider": "registry", "mode": "timeout"})

    async with HttpEnterpriseRegistry(sandbox.base_url, 0.5) as registry:
        started = time.monotonic()
        with pytest.raises(ProviderUnavailable):
            await registry.get_enterprise(USCC)
        elapsed = time.monotonic() - started
        recovered = await registry.get_enterprise(USCC)

    assert 0.4 <= elapsed < 1.0
    assert recovered is not None and recovered.uscc == USCC


async def test_sms_one_time_code_can_be_read_back_from_the_outbox(
    sandbox: SandboxProcess, control: httpx.AsyncClient
) -> None:
    async with HttpSmsGateway(sandbox.base_url, 2.0) as sms:
        receipt = await sms.send_sms(
            OutgoingSms(to="13700137000", text="【LoanBridge】验证码 704215", template="otp")
        )

    outbox = (await control.get("/sms/v1/messages", params={"to": "13700137000"})).json()

    assert outbox["messages"][-1]["message_id"] == receipt.message_id
    assert "704215" in outbox["messages"][-1]["text"]


async def test_identity_check_over_the_network_returns_the_magic_verdict(
    sandbox: SandboxProcess,
) -> None:
    async with HttpIdentityVerifier(sandbox.base_url, 2.0) as verifier:
        result = await verifier.verify(
            IdentityVerificationRequest(
                name="陈模糊", id_number=with_id_check_digit("44030419851120123")
            )
        )

    assert result.result is IdentityResult.INCONCLUSIVE
