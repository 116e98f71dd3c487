"""SMS gateway and mail sink: messages land in outboxes that tests and demos can read."""

from __future__ import annotations

import time
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import Envelope

from sandbox.app import create_app
from sandbox.faults import FaultBoard, FaultMode, FaultTiming, Provider
from sandbox.mail import MailSink
from sandbox.settings import SandboxSettings
from sandbox.store import StateStore
from tests.unit.sandbox.helpers import BASE_URL


async def test_sms_is_accepted_and_readable_from_the_outbox(client: httpx.AsyncClient) -> None:
    sent = await client.post(
        "/sms/v1/messages",
        json={"to": "13800138000", "text": "您的验证码是 482913", "template": "otp"},
    )
    await client.post("/sms/v1/messages", json={"to": "13900139000", "text": "其他"})

    outbox = (await client.get("/sms/v1/messages", params={"to": "13800138000"})).json()

    assert sent.status_code == 201
    assert sent.json()["status"] == "ACCEPTED"
    assert [m["message_id"] for m in outbox["messages"]] == [sent.json()["message_id"]]
    assert outbox["messages"][0]["text"] == "您的验证码是 482913"
    assert outbox["messages"][0]["template"] == "otp"
    everything = (await client.get("/sms/v1/messages")).json()["messages"]
    assert len(everything) == 2


@pytest.mark.parametrize("number", ["12800138000", "1380013800", "+8613800138000", "abc"])
async def test_sms_to_a_non_mobile_number_is_refused(
    client: httpx.AsyncClient, number: str
) -> None:
    response = await client.post("/sms/v1/messages", json={"to": number, "text": "hi"})

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_RECIPIENT"


async def test_sms_to_a_number_ending_0000_is_blocked(client: httpx.AsyncClient) -> None:
    response = await client.post("/sms/v1/messages", json={"to": "13800130000", "text": "hi"})

    assert response.status_code == 422
    assert response.json()["code"] == "RECIPIENT_BLOCKED"
    assert (await client.get("/sms/v1/messages")).json()["messages"] == []


def _envelope(subject: str, text: str, to: str = "boss@example.com") -> Envelope:
    mail = EmailMessage()
    mail["From"] = "noreply@loanbridge.test"
    mail["To"] = to
    mail["Subject"] = subject
    mail.set_content(text)
    envelope = Envelope()
    envelope.mail_from = "noreply@loanbridge.test"
    envelope.rcpt_tos = [to]
    envelope.content = mail.as_bytes()
    envelope.original_content = envelope.content
    return envelope


@pytest.fixture
def store() -> StateStore:
    return StateStore(":memory:")


def _sink(store: StateStore, board: FaultBoard) -> MailSink:
    return MailSink(store, board, FaultTiming(latency_s=0, slow_s=0.1, timeout_s=0.2))


async def test_mail_sink_stores_decoded_subject_and_text(store: StateStore) -> None:
    sink = _sink(store, FaultBoard())

    reply = await sink.handle_DATA(None, None, _envelope("放款通知", "您的贷款已发放。"))  # type: ignore[arg-type]

    assert reply.startswith("250")
    [mail] = store.list_mail("boss@example.com", 10)
    assert (mail.subject, mail.text.strip(), mail.recipients) == (
        "放款通知",
        "您的贷款已发放。",
        ("boss@example.com",),
    )


@pytest.mark.parametrize(
    ("mode", "reply_code", "stored"),
    [
        (FaultMode.ERROR, "451", 0),
        (FaultMode.TIMEOUT, "451", 0),
        (FaultMode.SLOW, "250", 1),
        (FaultMode.LOST_RESPONSE, "451", 1),
    ],
)
async def test_mail_faults_act_on_the_smtp_sink(
    store: StateStore, mode: FaultMode, reply_code: str, stored: int
) -> None:
    board = FaultBoard()
    board.arm(Provider.MAIL, mode, 1)
    sink = _sink(store, board)

    started = time.monotonic()
    reply = await sink.handle_DATA(None, None, _envelope("s", "t"))  # type: ignore[arg-type]

    assert reply.startswith(reply_code)
    assert len(store.list_mail(None, 10)) == stored
    assert time.monotonic() - started < 1.0
    assert board.snapshot() == []


async def test_mail_outbox_lists_received_mail_filtered_by_recipient(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite3")
    seeded = StateStore(path)
    seeded.add_mail("noreply@loanbridge.test", ("boss@example.com",), "放款通知", "已发放")
    seeded.add_mail("noreply@loanbridge.test", ("cfo@example.com",), "还款提醒", "请还款")
    seeded.close()
    app = create_app(SandboxSettings(state_path=path))

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        boss = (await client.get("/mail/v1/messages", params={"to": "boss@example.com"})).json()
        everyone = (await client.get("/mail/v1/messages")).json()

    assert [(m["subject"], m["to"]) for m in boss["messages"]] == [
        ("放款通知", ["boss@example.com"])
    ]
    assert len(everyone["messages"]) == 2


async def test_the_outbox_answers_the_latest_messages_oldest_first(
    client: httpx.AsyncClient,
) -> None:
    for n in range(5):
        await client.post("/sms/v1/messages", json={"to": "13800138000", "text": f"第 {n} 条"})
    latest = (await client.get("/sms/v1/messages", params={"limit": 2})).json()["messages"]
    # However long the sandbox has run, the code just sent is among what a reader asks for.
    assert [m["text"] for m in latest] == ["第 3 条", "第 4 条"]
