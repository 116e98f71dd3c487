"""HTTP adapters against the sandbox app in process: results, refusals and failure mapping."""

from __future__ import annotations

import socket
import time
from decimal import Decimal

import httpx
import pytest

from adapters.bureau.http import HttpCreditBureau
from adapters.errors import (
    NON_RETRYABLE_ERROR_TYPES,
    IdempotencyConflict,
    ProviderRejected,
    ProviderUnavailable,
)
from adapters.identity.http import HttpIdentityVerifier
from adapters.identity.protocol import IdentityResult, IdentityVerificationRequest
from adapters.notification.http import HttpSmsGateway
from adapters.notification.protocol import OutgoingEmail, OutgoingSms
from adapters.notification.smtp import SmtpEmailSender
from adapters.payment.http import HttpPaymentGateway
from adapters.payment.protocol import PaymentDirection, PaymentRequest, PaymentStatus
from adapters.registry.http import HttpEnterpriseRegistry
from adapters.registry.protocol import EnterpriseStatus
from adapters.tax.http import HttpTaxDataProvider
from adapters.tax.protocol import TaxGrade
from tests.unit.sandbox.helpers import BASE_URL, id_number, uscc


def disbursement(key: str = "disb-42", amount: str = "150000.00") -> PaymentRequest:
    return PaymentRequest(
        idempotency_key=key,
        direction=PaymentDirection.DISBURSEMENT,
        amount=Decimal(amount),
        account="6222020200112233",
        reference="loan-42",
    )


async def arm(client: httpx.AsyncClient, provider: str, mode: str) -> None:
    response = await client.post(
        "/sandbox/v1/faults", json={"provider": provider, "mode": mode, "count": 1}
    )
    assert response.status_code == 201


async def test_identity_adapter_returns_the_verdict(transport: httpx.ASGITransport) -> None:
    async with HttpIdentityVerifier(BASE_URL, 1.0, transport=transport) as verifier:
        match = await verifier.verify(
            IdentityVerificationRequest(name="张伟", id_number=id_number())
        )
        missing = await verifier.verify(
            IdentityVerificationRequest(name="张伟", id_number=id_number("999"))
        )

    assert match.result is IdentityResult.MATCH
    assert isinstance(match.similarity, Decimal)
    assert missing.result is IdentityResult.NOT_FOUND
    assert missing.similarity is None


async def test_identity_adapter_turns_a_bad_id_into_a_coded_rejection(
    transport: httpx.ASGITransport,
) -> None:
    bad = id_number()[:17] + ("0" if id_number()[17] != "0" else "1")
    async with HttpIdentityVerifier(BASE_URL, 1.0, transport=transport) as verifier:
        with pytest.raises(ProviderRejected) as caught:
            await verifier.verify(IdentityVerificationRequest(name="张伟", id_number=bad))

    assert caught.value.code == "INVALID_ID_NUMBER"
    assert caught.value.status_code == 422
    assert bad not in str(caught.value)


def test_identity_request_repr_hides_personal_data() -> None:
    request = IdentityVerificationRequest(name="张伟", id_number=id_number())

    assert id_number() not in repr(request)
    assert "张伟" not in repr(request)


async def test_registry_adapter_returns_records_and_none_for_unknown(
    transport: httpx.ASGITransport,
) -> None:
    async with HttpEnterpriseRegistry(BASE_URL, 1.0, transport=transport) as registry:
        active = await registry.get_enterprise(uscc())
        revoked = await registry.get_enterprise(uscc("999"))
        unknown = await registry.get_enterprise(uscc("000"))

    assert active is not None and active.status is EnterpriseStatus.ACTIVE
    assert isinstance(active.registered_capital, Decimal)
    assert revoked is not None and revoked.status is EnterpriseStatus.REVOKED
    assert unknown is None


async def test_registry_adapter_rejects_a_malformed_uscc(transport: httpx.ASGITransport) -> None:
    async with HttpEnterpriseRegistry(BASE_URL, 1.0, transport=transport) as registry:
        with pytest.raises(ProviderRejected) as caught:
            await registry.get_enterprise("not-a-uscc")

    assert caught.value.code == "INVALID_USCC"


async def test_bureau_adapter_reads_the_report(transport: httpx.ASGITransport) -> None:
    async with HttpCreditBureau(BASE_URL, 1.0, transport=transport) as bureau:
        overdue = await bureau.get_report(uscc("990"))
        sanctioned = await bureau.get_report(uscc("991"))
        unknown = await bureau.get_report(uscc("000"))

    assert overdue is not None and overdue.current_overdue
    assert sanctioned is not None and sanctioned.sanctions_hit
    assert isinstance(sanctioned.outstanding_loans_amount, Decimal)
    assert unknown is None


async def test_tax_adapter_reads_the_profile(transport: httpx.ASGITransport) -> None:
    async with HttpTaxDataProvider(BASE_URL, 1.0, transport=transport) as tax:
        ordinary = await tax.get_filings(uscc())
        grade_d = await tax.get_filings(uscc("980"))
        unknown = await tax.get_filings(uscc("000"))

    assert ordinary is not None and len(ordinary.filings) == 3
    assert all(isinstance(f.revenue, Decimal) for f in ordinary.filings)
    assert grade_d is not None and grade_d.tax_grade is TaxGrade.D
    assert unknown is None


async def test_payment_adapter_pays_once_and_flags_the_replay(
    transport: httpx.ASGITransport,
) -> None:
    async with HttpPaymentGateway(BASE_URL, 1.0, transport=transport) as bank:
        first = await bank.submit(disbursement())
        again = await bank.submit(disbursement())
        found = await bank.get("disb-42")
        listed = await bank.list_by_reference("loan-42")
        absent = await bank.get("disb-43")

    assert first.status is PaymentStatus.SUCCEEDED
    assert first.amount == Decimal("150000.00")
    assert not first.replayed
    assert again.replayed
    assert again.model_copy(update={"replayed": False}) == first
    assert found == first
    assert listed == [first]
    assert absent is None


async def test_payment_adapter_raises_idempotency_conflict_for_another_body(
    transport: httpx.ASGITransport,
) -> None:
    async with HttpPaymentGateway(BASE_URL, 1.0, transport=transport) as bank:
        await bank.submit(disbursement())
        with pytest.raises(IdempotencyConflict) as caught:
            await bank.submit(disbursement(amount="150000.01"))

    assert caught.value.idempotency_key == "disb-42"
    assert caught.value.code == "IDEMPOTENCY_CONFLICT"
    assert isinstance(caught.value, ProviderRejected)


async def test_payment_adapter_reports_a_failed_collection_as_a_result(
    transport: httpx.ASGITransport,
) -> None:
    request = PaymentRequest(
        idempotency_key="pay-42-1-1",
        direction=PaymentDirection.COLLECTION,
        amount=Decimal("5230.17"),
        account="6222020200110000",
        reference="loan-42",
    )
    async with HttpPaymentGateway(BASE_URL, 1.0, transport=transport) as bank:
        result = await bank.submit(request)

    assert result.status is PaymentStatus.FAILED
    assert result.failure_code == "INSUFFICIENT_FUNDS"


async def test_payment_retry_after_a_lost_answer_replays_instead_of_paying_twice(
    transport: httpx.ASGITransport, client: httpx.AsyncClient
) -> None:
    await arm(client, "bank", "lost_response")
    async with HttpPaymentGateway(BASE_URL, 1.0, transport=transport) as bank:
        with pytest.raises(ProviderUnavailable):
            await bank.submit(disbursement())
        retried = await bank.submit(disbursement())
        payments = await bank.list_by_reference("loan-42")

    assert retried.replayed
    assert len(payments) == 1


def test_payment_request_refuses_sub_fen_amounts_and_hides_the_account() -> None:
    with pytest.raises(ValueError):
        disbursement(amount="1.005")

    assert "6222020200112233" not in repr(disbursement())


async def test_sms_adapter_sends_and_the_code_is_in_the_outbox(
    transport: httpx.ASGITransport, client: httpx.AsyncClient
) -> None:
    async with HttpSmsGateway(BASE_URL, 1.0, transport=transport) as sms:
        receipt = await sms.send_sms(
            OutgoingSms(to="13800138000", text="验证码 551234", template="otp")
        )
        with pytest.raises(ProviderRejected) as caught:
            await sms.send_sms(OutgoingSms(to="13800130000", text="hi"))

    outbox = (await client.get("/sms/v1/messages", params={"to": "13800138000"})).json()
    assert outbox["messages"][-1]["message_id"] == receipt.message_id
    assert outbox["messages"][-1]["text"] == "验证码 551234"
    assert caught.value.code == "RECIPIENT_BLOCKED"


@pytest.mark.parametrize("mode", ["error", "timeout"])
async def test_injected_provider_failures_become_provider_unavailable(
    transport: httpx.ASGITransport, client: httpx.AsyncClient, mode: str
) -> None:
    await arm(client, "registry", mode)
    async with HttpEnterpriseRegistry(BASE_URL, 1.0, transport=transport) as registry:
        with pytest.raises(ProviderUnavailable):
            await registry.get_enterprise(uscc())
        recovered = await registry.get_enterprise(uscc())

    assert recovered is not None


async def test_adapter_gives_up_at_its_own_deadline(
    transport: httpx.ASGITransport, client: httpx.AsyncClient
) -> None:
    await arm(client, "identity", "timeout")  # the sandbox would hold it 0.3 s
    started = time.monotonic()
    async with HttpIdentityVerifier(BASE_URL, 0.1, transport=transport) as verifier:
        with pytest.raises(ProviderUnavailable, match=r"timed out after 0\.1 s"):
            await verifier.verify(IdentityVerificationRequest(name="张伟", id_number=id_number()))

    assert time.monotonic() - started < 0.3


def _mock(handler: httpx.MockTransport) -> HttpEnterpriseRegistry:
    return HttpEnterpriseRegistry(BASE_URL, 1.0, transport=handler)


@pytest.mark.parametrize(
    ("response", "error", "code"),
    [
        (httpx.Response(429, json={"code": "RATE_LIMITED"}), ProviderUnavailable, None),
        (httpx.Response(502, text="bad gateway"), ProviderUnavailable, None),
        (httpx.Response(200, text="<html>not json</html>"), ProviderUnavailable, None),
        (httpx.Response(200, json={"uscc": "x"}), ProviderUnavailable, None),
        (httpx.Response(404, json={"code": "NOT_FOUND"}), ProviderRejected, "NOT_FOUND"),
        (httpx.Response(403, text="forbidden"), ProviderRejected, "HTTP_403"),
    ],
)
async def test_http_answers_map_to_retryable_or_final_errors(
    response: httpx.Response, error: type[Exception], code: str | None
) -> None:
    registry = _mock(httpx.MockTransport(lambda _: response))
    with pytest.raises(error) as caught:
        await registry.get_enterprise(uscc())
    await registry.aclose()

    if code is not None:
        assert isinstance(caught.value, ProviderRejected)
        assert caught.value.code == code


async def test_connection_failure_is_provider_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    registry = _mock(httpx.MockTransport(refuse))
    with pytest.raises(ProviderUnavailable, match="ConnectError"):
        await registry.get_enterprise(uscc())
    await registry.aclose()


async def test_a_borrowed_client_is_left_open_and_an_owned_one_is_closed(
    transport: httpx.ASGITransport,
) -> None:
    borrowed = httpx.AsyncClient(transport=transport)
    async with HttpEnterpriseRegistry(BASE_URL + "/", 1.0, client=borrowed) as registry:
        assert await registry.get_enterprise(uscc()) is not None
    owned = HttpEnterpriseRegistry(BASE_URL, 1.0, transport=transport)
    await owned.aclose()

    assert not borrowed.is_closed
    await borrowed.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await owned.get_enterprise(uscc())


def test_non_positive_timeouts_are_refused() -> None:
    with pytest.raises(ValueError):
        HttpCreditBureau(BASE_URL, 0)
    with pytest.raises(ValueError):
        SmtpEmailSender("127.0.0.1", 25, "noreply@loanbridge.test", 0)


def test_non_retryable_error_types_name_both_refusals() -> None:
    assert set(NON_RETRYABLE_ERROR_TYPES) == {"ProviderRejected", "IdempotencyConflict"}


async def test_email_to_a_closed_port_is_provider_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = SmtpEmailSender("127.0.0.1", port, "noreply@loanbridge.test", 0.5)

    with pytest.raises(ProviderUnavailable):
        await sender.send_email(OutgoingEmail(to=("a@example.com",), subject="s", text="t"))
