"""The lending commands of the ``loanbridge`` CLI against a recorded, canned HTTP API.

Every command is run through typer's CliRunner with the API client's transport replaced by an
``httpx.MockTransport``: the tests check the method, path, body and headers each command sends
(idempotency keys, the hash of the downloaded offer letter on acceptance), the figures it
prints, that a bad amount stops before any request, and that an API refusal ends non-zero with
the bilingual message.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import cli.main as cli_main
import cli.session as cli_session
from cli.display import label, reasons
from config.settings import Settings

APP = "0b3c5d6e-0000-4000-8000-000000000001"
PRODUCT = "0b3c5d6e-0000-4000-8000-000000000002"
DEMAND = "0b3c5d6e-0000-4000-8000-000000000003"
TASK = "0b3c5d6e-0000-4000-8000-000000000004"
LOAN = "0b3c5d6e-0000-4000-8000-000000000005"
ENTERPRISE = "0b3c5d6e-0000-4000-8000-000000000006"
INSTITUTION = "0b3c5d6e-0000-4000-8000-000000000007"
PDF = b"%PDF-1.7\n offer letter bytes \n%%EOF\n"
PDF_SHA = hashlib.sha256(PDF).hexdigest()

Reply = httpx.Response | Callable[[httpx.Request], httpx.Response]


class FakeApi:
    """Canned answers by (method, path); every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Reply] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, reply: Reply | dict[str, Any] | list[Any]) -> None:
        if isinstance(reply, dict | list):
            reply = httpx.Response(200, json=reply)
        self.routes[(method, path)] = reply

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        reply = self.routes.get((request.method, request.url.path))
        if reply is None:
            return httpx.Response(
                404,
                json={
                    "error": {
                        "code": "not_found",
                        "message_zh": "资源不存在",
                        "message_en": f"no canned reply for {request.method} {request.url.path}",
                        "fields": [],
                    }
                },
            )
        return reply(request) if callable(reply) else reply

    @property
    def calls(self) -> list[tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests]

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)


def _exit(code: int) -> None:
    raise SystemExit(code)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeApi:
    fake = FakeApi()
    session = tmp_path / "session.json"
    session.write_text(json.dumps({"access_token": "tok-123", "refresh_token": "ref-456"}))
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    monkeypatch.setattr(cli_session, "SESSION_FILE", session)
    monkeypatch.setattr(cli_session, "settings", lambda: settings)
    monkeypatch.setattr(cli_session, "transport", httpx.MockTransport(fake.handle))
    monkeypatch.setenv("LOANBRIDGE_API_URL", "http://loanbridge.test")
    # _fail ends the process with os._exit (see its docstring); here it must end the command.
    monkeypatch.setattr(os, "_exit", _exit)
    monkeypatch.chdir(tmp_path)
    return fake


def run(*args: str) -> Any:
    return CliRunner().invoke(cli_main.app, list(args), catch_exceptions=False)


def conflict(code: str, zh: str, en: str, fields: list[dict[str, str]] | None = None) -> Reply:
    return httpx.Response(
        409,
        json={"error": {"code": code, "message_zh": zh, "message_en": en, "fields": fields or []}},
    )


def application(**extra: Any) -> dict[str, Any]:
    """The API's ApplicationOut, names and all."""
    return {
        "id": APP,
        "enterprise_id": ENTERPRISE,
        "enterprise_name": "云桥科技有限公司",
        "institution_id": INSTITUTION,
        "institution_name": "工商银行深圳分行",
        "product_id": PRODUCT,
        "product_name": "经营快贷",
        "product_version": 1,
        "amount": "300000.00",
        "term_months": 12,
        "repayment_method": "equal_installment",
        "status": "submitted",
        "status_reason": "",
        "assessment": {},
        "offer": {},
        "created_at": "2030-01-15T02:30:00Z",
        **extra,
    }


def progress(**extra: Any) -> dict[str, Any]:
    return {
        "application_id": APP,
        "stage": "offered",
        "reason": "",
        "assessment": None,
        "offer": None,
        "approvals": 0,
        "loan_id": None,
        "review_round": 0,
        "question": "",
        "missing_materials": [],
        "offer_document": None,
        **extra,
    }


OFFER = {
    "application_id": APP,
    "amount": "300000.00",
    "rate": "0.0395",
    "term_months": 12,
    "repayment_method": "equal_installment",
    "expires_at": "2030-01-31T00:00:00Z",
    "counter_offer": False,
}
OFFER_DOCUMENT = {"sha256": PDF_SHA, "apr": "0.041234", "document_id": "doc-1"}

LOAN_PROGRESS = {
    "loan_id": LOAN,
    "status": "active",
    "category": "normal",
    "days_past_due": 0,
    "principal_outstanding": "275000.00",
    "next_due_date": "2030-03-15",
    "next_due_amount": "25543.21",
    "credit": "0.00",
    "extension_pending": False,
}


def pdf_reply(sha: str | None = PDF_SHA, content: bytes = PDF) -> httpx.Response:
    headers = {"X-Document-SHA256": sha} if sha else {}
    return httpx.Response(200, content=content, headers=headers)


# ---- apply ---------------------------------------------------------------------------------


MATERIAL_IDS = iter(f"0b3c5d6e-0000-4000-8000-{n:012d}" for n in range(1, 10_000))


def material_reply(request: httpx.Request) -> httpx.Response:
    """A material file stored: its kind as the multipart form named it, a fresh id."""
    kind = re.search(rb'name="kind"\r\n\r\n([a-z_]+)', request.content)
    assert kind is not None
    return httpx.Response(
        201,
        json={
            "id": next(MATERIAL_IDS),
            "kind": kind.group(1).decode(),
            "filename": "f",
            "content_type": "application/pdf",
            "size_bytes": 9,
            "sha256": "0" * 64,
            "created_at": "2026-12-08T01:00:00Z",
            "application_id": None,
            "demand_id": None,
            "statement": None,
        },
    )


def test_apply_posts_the_application_with_its_idempotency_key(api: FakeApi, tmp_path: Path) -> None:
    api.on("POST", "/api/v1/applications", httpx.Response(201, json=application()))
    api.on("POST", "/api/v1/materials", material_reply)
    (tmp_path / "报表.pdf").write_bytes(b"%PDF-1.4 statements")
    (tmp_path / "流水.pdf").write_bytes(b"%PDF-1.4 bank")
    result = run(
        "apply",
        "--product",
        PRODUCT,
        "--amount",
        "300000.00",
        "--term",
        "12",
        "--method",
        "equal_principal",
        "--material",
        f"financial_statements={tmp_path / '报表.pdf'}",
        "--material",
        f"bank_statements={tmp_path / '流水.pdf'}",
        "--demand",
        DEMAND,
        "--key",
        "first-try",
    )
    assert result.exit_code == 0, result.output
    assert api.calls == [("POST", "/api/v1/materials")] * 2 + [("POST", "/api/v1/applications")]
    request = api.requests[-1]
    assert request.headers["Idempotency-Key"] == "first-try"
    assert request.headers["Authorization"] == "Bearer tok-123"
    body = api.body()
    assert len(body.pop("material_ids")) == 2  # the two files, uploaded first
    assert body == {
        "product_id": PRODUCT,
        "amount": "300000.00",
        "term_months": 12,
        "repayment_method": "equal_principal",
        "demand_id": DEMAND,
    }
    assert b"financial_statements" in api.requests[0].content
    assert "报表.pdf".encode() in api.requests[0].content
    assert APP in result.stdout
    assert "经营快贷 · 工商银行深圳分行  ¥300,000.00  12 个月" in result.stdout
    assert label("application_stage", "submitted") in result.stdout
    assert "already done" not in result.stdout


def test_apply_still_takes_the_product_as_an_argument(api: FakeApi) -> None:
    api.on("GET", "/api/v1/auth/me", ME)
    api.on("POST", "/api/v1/applications", httpx.Response(201, json=application()))
    result = run("apply", PRODUCT, "--amount", "200000", "--term", "6")
    assert result.exit_code == 0, result.output
    body = api.body()
    assert body["product_id"] == PRODUCT
    assert body["amount"] == "200000.00"  # to the fen: the same amount is the same request
    assert body["repayment_method"] == "equal_installment"


def test_apply_while_one_is_open_names_the_open_application(api: FakeApi) -> None:
    """One open application per product and purpose: the refusal names the open one."""
    open_id = "0b3c5d6e-0000-4000-8000-00000000aaaa"
    api.on(
        "POST",
        "/api/v1/applications",
        httpx.Response(
            409,
            json={
                "error": {
                    "code": "application.already_open",
                    "message_zh": "该企业已有同一产品、同一用途的申请正在办理",
                    "message_en": "An application for the same product and purpose is open",
                    "fields": [],
                    "details": {"application_id": open_id},
                }
            },
        ),
    )
    result = run(
        "apply", PRODUCT, "--amount", "200000", "--term", "6", "--purpose", "采购原材料",
        "--key", "k-2",
    )  # fmt: skip
    assert result.exit_code != 0
    assert api.body()["purpose"] == "采购原材料"
    assert open_id in result.stderr and "application.already_open" not in result.stdout


@pytest.mark.parametrize(
    "amount", ["abc", "3e5", "1.234", "0", "0.00", "300,000", "nan", " ", "-5", "-0.01"]
)
def test_a_bad_amount_stops_before_the_api(api: FakeApi, amount: str) -> None:
    result = run("apply", "--product", PRODUCT, "--amount", amount, "--term", "12")
    assert result.exit_code != 0
    assert api.requests == []
    assert result.stderr.startswith("error: --amount")
    assert len(result.stderr.strip().splitlines()) == 1


def test_apply_needs_a_product(api: FakeApi) -> None:
    result = run("apply", "--amount", "1000.00", "--term", "12")
    assert result.exit_code != 0
    assert "--product" in result.stderr
    assert api.requests == []


# ---- application ---------------------------------------------------------------------------


def test_status_shows_offer_apr_question_materials_and_loan(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/applications/{APP}", application(status="counter_offered"))
    api.on(
        "GET",
        f"/api/v1/applications/{APP}/progress",
        progress(
            stage="counter_offered",
            reason="amount.above_auto_limit",
            offer={**OFFER, "counter_offer": True},
            offer_document=OFFER_DOCUMENT,
            question="请说明第三季度营收下降原因",
            missing_materials=["bank_statements"],
            review_round=2,
            loan_id=LOAN,
        ),
    )
    result = run("application", "status", APP)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert ("GET", f"/api/v1/applications/{APP}/progress") in api.calls
    assert "经营快贷 · 工商银行深圳分行" in out
    stage = label("application_stage", "counter_offered")
    assert f"stage 阶段: {stage}  " in out and reasons("amount.above_auto_limit") in out
    assert "¥300,000.00" in out
    assert "rate 年利率 3.95%" in out
    assert "APR 年化利率 4.12%" in out
    assert "accept before 请于 2030-01-31 08:00 (北京时间)" in out  # 00:00 UTC is 08:00 Beijing
    assert PDF_SHA in out
    assert "请说明第三季度营收下降原因" in out
    assert label("material", "bank_statements") in out
    assert "review round 审查轮次: 2" in out
    assert LOAN in out
    for code in ("counter_offered", "bank_statements", "equal_installment", "above_auto_limit"):
        assert code not in out


def test_answer_uploads_the_files_and_posts_the_text_and_their_ids(
    api: FakeApi, tmp_path: Path
) -> None:
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/information",
        progress(stage="in_review", missing_materials=[]),
    )
    api.on("POST", f"/api/v1/applications/{APP}/materials", material_reply)
    statements = tmp_path / "流水.csv"
    statements.write_text("日期,金额\n2025-01-02,100\n", encoding="utf-8")
    result = run(
        "application",
        "answer",
        APP,
        "--text",
        "季节性因素 seasonal",
        "--file",
        f"bank_statements={statements}",
    )
    assert result.exit_code == 0, result.output
    assert api.calls == [
        ("POST", f"/api/v1/applications/{APP}/materials"),
        ("POST", f"/api/v1/applications/{APP}/information"),
    ]
    uploaded = api.requests[0].content
    assert b'name="kind"' in uploaded and b"bank_statements" in uploaded
    body = api.body()
    assert body["answer"] == "季节性因素 seasonal" and len(body["material_ids"]) == 1
    assert f"stage 阶段: {label('application_stage', 'in_review')}" in result.stdout
    assert "待补材料: 无 none" in result.stdout


def test_answer_needs_text_or_materials(api: FakeApi) -> None:
    result = run("application", "answer", APP)
    assert result.exit_code != 0
    assert api.requests == []


def test_a_material_without_its_file_is_refused_before_any_request(
    api: FakeApi, tmp_path: Path
) -> None:
    result = run(
        "provide", APP, "--file", "bank_statements", "--file", f"tax_returns={tmp_path}/x.pdf"
    )
    assert result.exit_code != 0
    assert "KIND=PATH" in result.output and "tax_returns" in result.output
    assert api.requests == []


def _offer_saved(
    api: FakeApi, document: dict[str, Any], letter: httpx.Response, target: Path
) -> Any:
    """``application offer --save``: the status (with ``document``), then the letter."""
    api.on(
        "GET",
        f"/api/v1/applications/{APP}/progress",
        progress(offer=OFFER, offer_document=document),
    )
    api.on("GET", f"/api/v1/applications/{APP}/documents/offer_letter", letter)
    return run("application", "offer", APP, "--save", str(target))


def test_offer_downloads_the_letter_and_prints_its_hash_and_apr(
    api: FakeApi, tmp_path: Path
) -> None:
    target = tmp_path / "offer.pdf"
    result = _offer_saved(api, OFFER_DOCUMENT, pdf_reply(), target)
    assert result.exit_code == 0, result.output
    assert ("GET", f"/api/v1/applications/{APP}/documents/offer_letter") in api.calls
    assert f"SHA-256: {PDF_SHA}" in result.stdout
    assert "APR 年化利率: 4.12%" in result.stdout
    assert target.read_bytes() == PDF
    assert f"({len(PDF)} bytes)" in result.stdout


TERMS_SHA = "7" * 64  # the digest of the offer's terms, which the letter prints
TERMS_DOCUMENT = {
    "sha256": TERMS_SHA,
    "apr": "0.041234",
    "document_id": "",
    "bound_to": "terms",
    "installments": 12,
    "first_payment": "8512.34",
    "first_due_date": "2027-01-08",
    "total_repayment": "102148.08",
    "total_interest": "2148.08",
    "maturity_date": "2027-12-08",
}


def terms_letter() -> httpx.Response:
    headers = {"X-Document-SHA256": PDF_SHA, "X-Offer-SHA256": TERMS_SHA}
    return httpx.Response(200, content=PDF, headers=headers)


def test_offer_bound_to_its_terms_prints_the_digest_the_acceptance_takes(
    api: FakeApi, tmp_path: Path
) -> None:
    result = _offer_saved(api, TERMS_DOCUMENT, terms_letter(), tmp_path / "offer.pdf")
    assert result.exit_code == 0, result.output
    assert f"offer terms 要约条款 SHA-256 (accept --sha256): {TERMS_SHA}" in result.stdout
    assert f"file SHA-256: {PDF_SHA}" in result.stdout
    assert "warning" not in result.output
    assert (tmp_path / "offer.pdf").read_bytes() == PDF


def _accept_without_a_hash(api: FakeApi, letter: httpx.Response) -> Any:
    """``application accept`` without ``--sha256``: it downloads the letter first."""
    api.on("GET", f"/api/v1/applications/{APP}/documents/offer_letter", letter)
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        {"stage": "disbursed", "loan_id": LOAN, "account": "6222 **** **** 3445"},
    )
    return run(
        "application", "accept", APP, "--name", "张三", "--account", "6222020200112233445",
        "--code", "482913",
    )  # fmt: skip


def test_accept_without_a_hash_takes_the_terms_digest_the_letter_prints(api: FakeApi) -> None:
    result = _accept_without_a_hash(api, terms_letter())
    assert result.exit_code == 0, result.output
    assert api.body()["document_sha256"] == TERMS_SHA


def test_accept_uses_the_hash_of_the_letter_it_downloaded(api: FakeApi) -> None:
    result = _accept_without_a_hash(api, pdf_reply())
    assert result.exit_code == 0, result.output
    assert api.calls == [
        ("GET", f"/api/v1/applications/{APP}/documents/offer_letter"),
        ("POST", f"/api/v1/applications/{APP}/acceptance"),
    ]
    assert api.body() == {
        "signer_name": "张三",
        "code": "482913",
        "account": "6222020200112233445",
        "document_sha256": PDF_SHA,
    }
    assert PDF_SHA in result.stdout
    assert "6222 **** **** 3445" in result.stdout
    assert "6222020200112233445" not in result.stdout
    assert LOAN in result.stdout


def test_accept_hashes_the_bytes_not_the_header_claim(api: FakeApi) -> None:
    """Without a declared hash the CLI still accepts exactly the bytes it fetched."""
    other = b"%PDF-1.7 another letter"
    api.on("GET", f"/api/v1/applications/{APP}/documents/offer_letter", pdf_reply(None, other))
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        {"stage": "accepted", "loan_id": None, "account": "6222****"},
    )
    result = run(
        "application", "accept", APP, "--name", "张三", "--account", "62220202001",
        "--code", "482913",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert api.body()["document_sha256"] == hashlib.sha256(other).hexdigest()


def test_accept_refuses_a_letter_that_does_not_match_its_declared_hash(api: FakeApi) -> None:
    api.on(
        "GET",
        f"/api/v1/applications/{APP}/documents/offer_letter",
        pdf_reply(sha="0" * 64),
    )
    result = run("application", "accept", APP, "--name", "张三", "--account", "62220202001")
    assert result.exit_code != 0
    assert api.calls == [("GET", f"/api/v1/applications/{APP}/documents/offer_letter")]
    assert "SHA-256" in result.stderr


def test_accept_with_a_given_hash_does_not_download(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        {"stage": "accepted", "loan_id": None, "account": "6222****"},
    )
    result = run(
        "application",
        "accept",
        APP,
        "--name",
        "张三",
        "--account",
        "62220202001",
        "--sha256",
        PDF_SHA.upper(),
        "--code",
        "482913",
    )
    assert result.exit_code == 0, result.output
    assert api.calls == [("POST", f"/api/v1/applications/{APP}/acceptance")]
    assert api.body()["document_sha256"] == PDF_SHA


def test_accept_without_a_code_has_one_texted_and_asks_for_it(api: FakeApi) -> None:
    """The signer's code: sent to the legal representative's mobile (shown masked), typed in."""
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance-code",
        {
            "masked_mobile": "138****5678",
            "expires_at": "2030-01-01T00:10:00Z",
            "attempts": 5,
            "document_sha256": PDF_SHA,
        },
    )
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        {"stage": "accepted", "loan_id": None, "account": "6222****"},
    )
    result = CliRunner().invoke(
        cli_main.app,
        ["application", "accept", APP, "--name", "张三", "--account", "62220202001",
         "--sha256", PDF_SHA],
        input="482913\n",
        catch_exceptions=False,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert api.calls == [
        ("POST", f"/api/v1/applications/{APP}/acceptance-code"),
        ("POST", f"/api/v1/applications/{APP}/acceptance"),
    ]
    assert "138****5678" in result.stdout
    assert api.body()["code"] == "482913"


def test_a_wrong_signer_name_points_at_the_name_option(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        httpx.Response(
            422,
            json={
                "error": {
                    "code": "signer.name_mismatch",
                    "message_zh": "签署人姓名与登记的法定代表人不一致",
                    "message_en": "The signer's name is not the legal representative's",
                    "fields": [
                        {
                            "field": "signer_name",
                            "code": "signer.name_mismatch",
                            "message_zh": "与登记的法定代表人姓名不一致",
                            "message_en": "Not the registered legal representative's name",
                        }
                    ],
                }
            },
        ),
    )
    result = run(
        "application", "accept", APP, "--name", "张三", "--account", "62220202001",
        "--sha256", PDF_SHA, "--code", "482913",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "--name" in result.stderr


def test_accept_rejects_a_malformed_hash(api: FakeApi) -> None:
    result = run(
        "application", "accept", APP, "--name", "张三", "--account", "6222", "--sha256", "abc"
    )
    assert result.exit_code != 0
    assert "--sha256" in result.stderr
    assert api.requests == []


def test_refuse_and_withdraw(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/applications/{APP}/refusal", progress(stage="offer_refused"))
    api.on("POST", f"/api/v1/applications/{APP}/withdraw", progress(stage="withdrawn"))
    refused = run("application", "refuse", APP, "--reason", "rate too high 利率过高")
    withdrawn = run("application", "withdraw", APP)
    assert refused.exit_code == withdrawn.exit_code == 0
    assert api.calls == [
        ("POST", f"/api/v1/applications/{APP}/refusal"),
        ("POST", f"/api/v1/applications/{APP}/withdraw"),
    ]
    assert json.loads(api.requests[0].content) == {"reason": "rate too high 利率过高"}
    assert label("application_stage", "offer_refused") in refused.stdout
    assert label("application_stage", "withdrawn") in withdrawn.stdout


def test_an_api_refusal_exits_non_zero_with_the_bilingual_message(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        conflict(
            "offer.document_mismatch",
            "您接受的要约函不是已签发的版本，请重新下载",
            "the offer letter you accept is not the one issued; download it again",
            [
                {
                    "field": "document_sha256",
                    "code": "mismatch",
                    "message_zh": "哈希不符",
                    "message_en": "hash differs",
                }
            ],
        ),
    )
    result = run(
        "application",
        "accept",
        APP,
        "--name",
        "张三",
        "--account",
        "62220202001",
        "--sha256",
        PDF_SHA,
        "--code",
        "482913",
    )
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: 您接受的要约函不是已签发的版本，请重新下载 / "
        "the offer letter you accept is not the one issued; download it again",
        "  --sha256: 哈希不符 / hash differs",  # the API's field, named as the option
    ]


# ---- tasks ---------------------------------------------------------------------------------

TASK_OUT = {
    "id": TASK,
    "kind": "credit_approval",
    "subject": f"application-{APP}",
    "workflow_id": f"application-{APP}",
    "institution_id": INSTITUTION,
    "required_role": "officer",
    "state": "done",
    "due_at": "2030-01-17T02:30:00Z",
    "completed_at": None,
    "outcome": "approved",
    "context": {"reasons": "amount.above_auto_limit", "amount": "300000.00"},
    "created_at": "2030-01-15T02:30:00Z",
}
ME = {
    "id": "0b3c5d6e-0000-4000-8000-000000000008",
    "username": "demo-verified",
    "role": "applicant",
    "display_name": "徐明娜",
    "enterprise_id": ENTERPRISE,
    "institution_id": None,
    "created_at": "2030-01-01T00:00:00Z",
}


def test_tasks_claim_names_what_the_task_is_about_and_what_comes_next(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/tasks/{TASK}/claim", {**TASK_OUT, "state": "claimed"})
    api.on("GET", "/api/v1/applications", [application()])
    result = run("tasks", "claim", TASK)
    assert result.exit_code == 0, result.output
    assert api.calls[0] == ("POST", f"/api/v1/tasks/{TASK}/claim")
    out = result.stdout
    assert f"task 任务 {TASK}: {label('task_state', 'claimed')}" in out
    assert "云桥科技有限公司 · 经营快贷 ¥300,000.00 12 个月 months" in out
    assert f"application-{APP}" not in out
    assert f"loanbridge tasks decide {TASK} --approve" in out


@pytest.mark.parametrize(
    ("flags", "body"),
    [
        (["--approve"], {"approve": True, "reason": ""}),
        (["--reject", "--reason", "证照不清晰"], {"approve": False, "reason": "证照不清晰"}),
    ],
)
def test_tasks_decide_keeps_approve_and_reject(
    api: FakeApi, flags: list[str], body: dict[str, Any]
) -> None:
    api.on("POST", f"/api/v1/tasks/{TASK}/decision", TASK_OUT)
    result = run("tasks", "decide", TASK, *flags)
    assert result.exit_code == 0, result.output
    assert api.body() == body
    done, approved = label("task_state", "done"), label("task_outcome", "approved")
    assert f"task 任务 {TASK}: {done} ({approved})" in result.stdout


def test_tasks_decide_counter_offer(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/tasks/{TASK}/decision", {**TASK_OUT, "outcome": "counter_offer"})
    result = run(
        "tasks",
        "decide",
        TASK,
        "--action",
        "counter_offer",
        "--amount",
        "250000.00",
        "--rate",
        "0.045",
        "--term",
        "24",
        "--reason",
        "lower the exposure",
    )
    assert result.exit_code == 0, result.output
    assert api.body() == {
        "approve": False,
        "reason": "lower the exposure",
        "action": "counter_offer",
        "amount": "250000.00",
        "rate": "0.045",
        "term_months": 24,
    }


def test_tasks_decide_request_info(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/tasks/{TASK}/decision", {**TASK_OUT, "state": "waiting"})
    result = run(
        "tasks", "decide", TASK, "--action", "request_info", "--question", "营收为何下降？"
    )
    assert result.exit_code == 0, result.output
    assert api.body() == {
        "approve": False,
        "reason": "",
        "action": "request_info",
        "question": "营收为何下降？",
    }


def test_tasks_decide_action_approve_sets_approve(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/tasks/{TASK}/decision", TASK_OUT)
    result = run("tasks", "decide", TASK, "--action", "approve")
    assert result.exit_code == 0, result.output
    assert api.body() == {"approve": True, "reason": "", "action": "approve"}


@pytest.mark.parametrize(
    "flags",
    [
        [],
        ["--action", "request_info"],
        ["--action", "counter_offer"],
        ["--action", "counter_offer", "--rate", "4.5"],
        ["--action", "counter_offer", "--amount", "1e5"],
        ["--action", "counter_offer", "--term", "0"],
        ["--reject", "--action", "approve"],
        ["--action", "decline", "--amount", "100.00"],
        ["--approve", "--question", "why?"],
    ],
)
def test_tasks_decide_checks_its_options_before_the_api(api: FakeApi, flags: list[str]) -> None:
    result = run("tasks", "decide", TASK, *flags)
    assert result.exit_code != 0
    assert api.requests == []
    assert result.stderr.startswith("error: ")


# ---- loans ---------------------------------------------------------------------------------


LOAN_OUT = {
    "id": LOAN,
    "application_id": APP,
    "enterprise_id": ENTERPRISE,
    "institution_id": INSTITUTION,
    "principal": "300000.00",
    "annual_rate": "0.0395",
    "term_months": 12,
    "repayment_method": "equal_installment",
    "status": "active",
    "disbursed_at": "2030-01-15T02:30:00Z",
    "outstanding_principal": "275000.00",
    "days_past_due": 0,
    "category": "normal",
    "next_due_date": "2030-03-15",
    "maturity_date": "2031-01-15",
    "closed_at": None,
}


def test_loan_list(api: FakeApi) -> None:
    api.on("GET", "/api/v1/loans", [LOAN_OUT])
    api.on("GET", "/api/v1/institutions", [LENDER])
    result = run("loan", "list", "--status", "active")
    assert result.exit_code == 0, result.output
    assert api.requests[0].url.params["status"] == "active"
    assert LOAN in result.stdout
    assert "工商银行深圳分行" in result.stdout  # the lender by name
    assert "¥275,000.00" in result.stdout
    assert "3.95%" in result.stdout
    assert label("loan_status", "active") in result.stdout
    assert label("risk_category", "normal") in result.stdout


LENDER = {
    "id": INSTITUTION,
    "code": "ICBC-SZ",
    "name": "工商银行深圳分行",
    "kind": "bank",
    "status": "active",
}


def test_loan_schedule_prints_a_table(api: FakeApi) -> None:
    row = {
        "due_date": "2030-02-15",
        "kind": "regular",
        "status": "paid",
        "principal": "24556.12",
        "interest": "987.50",
        "penalty": "0.00",
        "paid": "25543.62",
        "outstanding": "0.00",
        "days_past_due": 0,
    }
    api.on(
        "GET",
        f"/api/v1/loans/{LOAN}/schedule",
        {
            "loan_id": LOAN,
            "as_of": "2030-02-20",
            "status": "active",
            "category": "normal",
            "days_past_due": 0,
            "principal_outstanding": "275443.88",
            "credit": "0.00",
            "rows": [
                {**row, "number": 1},
                {
                    **row,
                    "number": 2,
                    "due_date": "2030-03-15",
                    "status": "due",
                    "penalty": "12.34",
                    "paid": "0.00",
                },
            ],
        },
    )
    result = run("loan", "schedule", LOAN)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "due date" in line)
    for column in ("no.", "principal", "interest", "penalty", "paid", "status"):
        assert column in header
    first = next(line for line in lines if line.strip().startswith("1 "))
    assert first.split() == [
        "1", "2030-02-15", "¥24,556.12", "¥987.50", "¥0.00", "¥25,543.62", "已还清", "Paid"
    ]  # fmt: skip
    second = next(line for line in lines if line.strip().startswith("2 "))
    assert second.split() == [
        "2", "2030-03-15", "¥24,556.12", "¥987.50", "¥12.34", "¥0.00", "当期应还", "Due"
    ]  # fmt: skip
    total = next(line for line in lines if line.strip().startswith("total"))
    assert total.split()[2:] == ["¥49,112.24", "¥1,975.00", "¥12.34", "¥25,543.62"]
    assert "¥275,443.88" in result.stdout


def test_loan_pay_sends_the_amount_as_a_string_with_the_key(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/loans/{LOAN}/payments", LOAN_PROGRESS)
    result = run("loan", "pay", LOAN, "25543.21", "--key", "march-installment")
    assert result.exit_code == 0, result.output
    assert api.calls == [("POST", f"/api/v1/loans/{LOAN}/payments")]
    assert api.requests[0].headers["Idempotency-Key"] == "march-installment"
    assert api.body() == {"amount": "25543.21"}
    assert "paid 已还款 ¥25,543.21" in result.stdout
    assert "¥275,000.00" in result.stdout
    assert "2030-03-15" in result.stdout
    assert "already done" not in result.stdout


@pytest.mark.parametrize("amount", ["0.1e3", "25543.215", "1,000", "0", "-1", "-25.50"])
def test_loan_pay_rejects_a_bad_amount(api: FakeApi, amount: str) -> None:
    result = run("loan", "pay", LOAN, amount)
    assert result.exit_code != 0
    assert api.requests == []
    assert result.stderr.startswith("error: AMOUNT")


def test_loan_prepay(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/loans/{LOAN}/prepayments", LOAN_PROGRESS)
    result = run(
        "loan",
        "prepay",
        LOAN,
        "50000.00",
        "--strategy",
        "reduce_installment_amount",
        "--key",
        "pre-1",
    )
    assert result.exit_code == 0, result.output
    assert api.requests[0].headers["Idempotency-Key"] == "pre-1"
    assert api.body() == {"amount": "50000.00", "strategy": "reduce_installment_amount"}
    strategy = label("prepayment_strategy", "reduce_installment_amount")
    assert f"¥50,000.00 ({strategy})" in result.stdout


QUOTE = {
    "as_of": "2030-02-20",
    "valid_until": "2030-02-28",
    "principal": "275000.00",
    "interest": "1234.56",
    "penalty": "0.00",
    "less_credit": "10.00",
    "total": "276224.56",
}


def test_loan_payoff_quote(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/loans/{LOAN}/payoff-quote", QUOTE)
    result = run("loan", "payoff-quote", LOAN, "--until", "2030-02-28")
    assert result.exit_code == 0, result.output
    assert api.requests[0].url.params["valid_until"] == "2030-02-28"
    assert "¥276,224.56" in result.stdout
    assert "¥1,234.56" in result.stdout


def test_loan_payoff_quote_rejects_a_bad_date(api: FakeApi) -> None:
    result = run("loan", "payoff-quote", LOAN, "--until", "28/02/2030")
    assert result.exit_code != 0
    assert "--until" in result.stderr
    assert api.requests == []


def test_loan_payoff_defaults_to_todays_quote_total(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/loans/{LOAN}/payoff-quote", QUOTE)
    api.on(
        "POST",
        f"/api/v1/loans/{LOAN}/payoff",
        {**LOAN_PROGRESS, "status": "closed", "principal_outstanding": "0.00"},
    )
    result = run("loan", "payoff", LOAN)
    assert result.exit_code == 0, result.output
    assert api.calls == [
        ("GET", f"/api/v1/loans/{LOAN}/payoff-quote"),
        ("POST", f"/api/v1/loans/{LOAN}/payoff"),
    ]
    assert "valid_until" not in api.requests[0].url.params
    assert api.body() == {"amount": "276224.56"}
    assert label("loan_status", "closed") in result.stdout


def test_loan_payoff_with_an_amount_skips_the_quote(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/loans/{LOAN}/payoff", {**LOAN_PROGRESS, "status": "closed"})
    result = run("loan", "payoff", LOAN, "--amount", "280000")
    assert result.exit_code == 0, result.output
    assert api.calls == [("POST", f"/api/v1/loans/{LOAN}/payoff")]
    assert api.body() == {"amount": "280000"}


def test_loan_extend(api: FakeApi) -> None:
    api.on("POST", f"/api/v1/loans/{LOAN}/extensions", {**LOAN_PROGRESS, "extension_pending": True})
    result = run(
        "loan",
        "extend",
        LOAN,
        "--months",
        "6",
        "--reason",
        "订单回款延迟 delayed receivables",
        "--difficulty",
        "--consent",
        "GC-2030-001",
    )
    assert result.exit_code == 0, result.output
    assert api.body() == {
        "extra_months": 6,
        "reason": "订单回款延迟 delayed receivables",
        "financial_difficulty": True,
        "guarantor_consent": "GC-2030-001",
    }
    assert "展期" in result.stdout


def test_loan_extend_conflict_is_explained(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/loans/{LOAN}/extensions",
        conflict(
            "extension.pending",
            "已有展期申请待审批",
            "An extension request is already pending",
        ),
    )
    result = run("loan", "extend", LOAN, "--months", "3", "--reason", "cash flow")
    assert result.exit_code != 0
    assert "已有展期申请待审批 / An extension request is already pending" in result.stderr


def test_loan_statement_writes_the_pdf(api: FakeApi, tmp_path: Path) -> None:
    api.on(
        "GET",
        f"/api/v1/loans/{LOAN}/statement.pdf",
        httpx.Response(200, content=PDF, headers={"Content-Type": "application/pdf"}),
    )
    target = tmp_path / "statement.pdf"
    result = run("loan", "statement", LOAN, "--save", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == PDF
    assert str(target) in result.stdout
    assert f"{len(PDF)} bytes" in result.stdout


def test_loan_statement_default_path(api: FakeApi, tmp_path: Path) -> None:
    api.on("GET", f"/api/v1/loans/{LOAN}/statement.pdf", httpx.Response(200, content=PDF))
    result = run("loan", "statement", LOAN)
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"statement-{LOAN}.pdf").read_bytes() == PDF


def test_loan_document(api: FakeApi, tmp_path: Path) -> None:
    api.on("GET", f"/api/v1/loans/{LOAN}/documents/settlement_certificate", pdf_reply())
    target = tmp_path / "cert.pdf"
    result = run("loan", "document", LOAN, "settlement_certificate", "--save", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_bytes() == PDF
    assert PDF_SHA in result.stdout


def test_loan_document_not_issued(api: FakeApi, tmp_path: Path) -> None:
    result = run("loan", "document", LOAN, "addendum", "--save", str(tmp_path / "a.pdf"))
    assert result.exit_code != 0
    assert "资源不存在" in result.stderr
    assert not (tmp_path / "a.pdf").exists()


def test_an_expired_token_is_refreshed_once(api: FakeApi) -> None:
    answers = iter([httpx.Response(401, json={}), httpx.Response(200, json=[])])
    api.on("GET", "/api/v1/loans", lambda _request: next(answers))
    api.on(
        "POST",
        "/api/v1/auth/refresh",
        {
            "access_token": "tok-new",
            "refresh_token": "ref-new",
            "token_type": "bearer",
            "expires_in": 900,
        },
    )
    result = run("loan", "list")
    assert result.exit_code == 0, result.output
    assert api.requests[-1].headers["Authorization"] == "Bearer tok-new"


def test_onboarding_status_shows_the_way_forward_and_resubmit_sends_only_the_corrections(
    api: FakeApi,
) -> None:
    api.on(
        "GET",
        "/api/v1/enterprises/me",
        {
            "id": ENTERPRISE,
            "name": "云桥科技",
            "uscc": "91440300MA5FXXXX1X",
            "registered_capital": "1000000.00",
            "founding_date": "2020-01-01",
            "industry": "I",
            "region": "440305",
            "legal_rep_name": "张三",
            "legal_rep_id_number": "4403**********1234",
            "mobile": "139****0001",
            "email": None,
            "status": "rejected",
            "status_reason": "identity.mismatch",
            "verified_at": None,
        },
    )
    api.on(
        "GET",
        f"/api/v1/registrations/{ENTERPRISE}",
        {
            "enterprise_id": ENTERPRISE,
            "stage": "rejected",
            "reason": "identity.mismatch",
            "guidance": {
                "code": "identity.mismatch",
                "message_zh": "法定代表人姓名与身份证号码不一致",
                "message_en": "The name and ID number do not match",
                "fields": ["legal_representative.name"],
                "next_step": "correct_and_resubmit",
                "can_resubmit": True,
            },
        },
    )
    status = run("onboarding", "status")
    assert status.exit_code == 0, status.output
    assert "身份证号码不一致" in status.output
    assert "to correct 请更正: 法定代表人 Legal representative" in status.output
    assert label("enterprise_status", "rejected") in status.output
    assert "onboarding resubmit" in status.output

    api.on(
        "POST",
        "/api/v1/enterprises/me/resubmission",
        httpx.Response(
            201,
            json={"enterprise_id": ENTERPRISE, "stage": "awaiting_documents",
                  "missing_documents": ["id_handheld"]},
        ),
    )  # fmt: skip
    result = run("onboarding", "resubmit", "--legal-rep-name", "张三", "--reupload", "id_handheld")
    assert result.exit_code == 0, result.output
    assert api.body() == {
        "enterprise": {},
        "legal_representative": {"name": "张三"},
        "reupload_documents": ["id_handheld"],
    }
    handheld = label("document_kind", "id_handheld")
    assert "upload again 请重新上传 (`loanbridge onboarding upload KIND FILE`)" in result.output
    assert f"id_handheld ({handheld})" in result.output

    api.on(
        "POST",
        "/api/v1/enterprises/me/resubmission",
        conflict("onboarding.in_progress", "认证正在进行中", "The verification is in progress"),
    )
    refused = run("onboarding", "resubmit")
    assert refused.exit_code != 0
    assert "认证正在进行中" in refused.output


def test_status_shows_the_offer_terms_digest_and_the_schedule_summary(api: FakeApi) -> None:
    api.on("GET", f"/api/v1/applications/{APP}", application(status="offered"))
    api.on(
        "GET",
        f"/api/v1/applications/{APP}/progress",
        progress(stage="offered", offer=OFFER, offer_document=TERMS_DOCUMENT),
    )
    result = run("application", "status", APP)
    assert result.exit_code == 0, result.output
    assert f"offer terms 要约条款 SHA-256 {TERMS_SHA} (accept --sha256)" in result.stdout
    assert "12 期 installments, first 首期 ¥8,512.34 on 2027-01-08" in result.stdout
    assert "total 还款总额 ¥102,148.08, maturity 到期 2027-12-08" in result.stdout
