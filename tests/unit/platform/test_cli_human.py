"""The CLI speaks to people (issue 19): lists that give the ids other commands take, names
instead of ids, words instead of codes, ¥ amounts and Beijing time; repeats that say "already
done"; field-level errors instead of tracebacks or parser quirks; a registration form that asks
again only what was refused."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

import cli.main as cli_main
from cli.display import label, reasons
from tests.unit.platform.test_cli_lending import (
    APP,
    INSTITUTION,
    LOAN,
    LOAN_OUT,
    LOAN_PROGRESS,
    ME,
    PDF_SHA,
    PRODUCT,
    TASK_OUT,
    FakeApi,
    api,
    application,
    conflict,
    run,
)

__all__ = ["api"]  # the fixture, re-used

REPLAYED = {"Idempotent-Replayed": "true"}


def refusal(status: int, code: str, fields: list[tuple[str, str, str]]) -> httpx.Response:
    return httpx.Response(
        status,
        json={
            "error": {
                "code": code,
                "message_zh": "输入有误，请检查标出的字段",
                "message_en": "Some fields are invalid",
                "fields": [
                    {"field": f, "code": "x", "message_zh": zh, "message_en": en}
                    for f, zh, en in fields
                ],
            }
        },
    )


# ---- names, not ids --------------------------------------------------------------------------


def test_application_list_gives_ids_with_names_words_yuan_and_beijing_time(api: FakeApi) -> None:
    api.on(
        "GET",
        "/api/v1/applications",
        [application(status="in_review", amount="1250000.00", repayment_method="equal_principal")],
    )
    result = run("application", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert APP in out
    assert label("application_stage", "in_review") in out
    assert "提交于 2030-01-15 10:30 (北京时间)" in out  # 02:30 UTC
    assert "云桥科技有限公司: 经营快贷 · 工商银行深圳分行  ¥1,250,000.00  12 个月 months" in out
    assert label("repayment_method", "equal_principal") in out
    for code in ("in_review", "equal_principal", PRODUCT, INSTITUTION):
        assert code not in out


def test_application_list_when_there_is_none_says_what_to_do(api: FakeApi) -> None:
    api.on("GET", "/api/v1/applications", [])
    result = run("application", "list")
    assert result.exit_code == 0, result.output
    assert "products list" in result.stdout


PRODUCT_OUT = {
    "id": PRODUCT,
    "institution_id": INSTITUTION,
    "institution_name": "工商银行深圳分行",
    "code": "ICBC-JYD",
    "name": "经营快贷",
    "status": "active",
    "version": 3,
    "terms": {
        "amount_min": "100000.00",
        "amount_max": "3000000.00",
        "term_min_months": 6,
        "term_max_months": 36,
        "repayment_methods": ["equal_installment", "interest_first"],
    },
    "apr_preview": {
        "amount": "1550000.00",
        "term_months": 36,
        "rate_min": "0.0360",
        "rate_max": "0.0610",
        "apr_at_min_rate": "0.0395",
        "apr_at_max_rate": "0.0652",
    },
    "created_at": "2030-01-01T00:00:00Z",
}


def test_products_list_shows_the_id_to_apply_with_and_the_product_in_words(
    api: FakeApi,
) -> None:
    api.on("GET", "/api/v1/products", [PRODUCT_OUT])
    result = run("products", "list", "--institution", INSTITUTION)
    assert result.exit_code == 0, result.output
    assert api.requests[0].url.params["institution_id"] == INSTITUTION
    out = result.stdout
    assert f"{PRODUCT}  经营快贷 · 工商银行深圳分行" in out
    assert "¥100,000.00–¥3,000,000.00  6–36 个月 months  APR 年化 3.95%–6.52%" in out
    methods = [label("repayment_method", m) for m in ("equal_installment", "interest_first")]
    assert ", ".join(methods) in out
    assert "interest_first" not in out


def test_tasks_list_names_the_enterprise_product_and_amount(api: FakeApi) -> None:
    api.on("GET", "/api/v1/tasks", [{**TASK_OUT, "state": "open", "outcome": None}])
    api.on("GET", "/api/v1/applications", [application()])
    result = run("tasks", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert label("task_kind", "credit_approval") in out
    assert "due 到期 2030-01-17 10:30" in out
    assert "云桥科技有限公司 · 经营快贷 ¥300,000.00 12 个月 months" in out
    assert reasons("amount.above_auto_limit") in out
    assert f"application-{APP}" not in out


def test_an_extension_task_names_the_loans_enterprise_product_and_principal(
    api: FakeApi,
) -> None:
    extension = {
        **TASK_OUT,
        "kind": "extension_approval",
        "subject": f"loan-{LOAN}",
        "workflow_id": f"loan-{LOAN}",
        "state": "open",
        "outcome": None,
        "context": {"extra_months": "6", "restructuring": "false", "reason": "订单回款周期延长"},
    }
    api.on("GET", "/api/v1/tasks", [extension])
    api.on("GET", f"/api/v1/loans/{LOAN}", {**LOAN_OUT, "principal": "180000.00"})
    api.on("GET", "/api/v1/applications", [application()])
    result = run("tasks", "list")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert label("task_kind", "extension_approval") in out
    assert "云桥科技有限公司 · 经营快贷 贷款 loan ¥180,000.00  展期 6 个月 months extension" in out
    assert "(订单回款周期延长)" in out
    assert f"loan-{LOAN}" not in out


DEMAND: dict[str, Any] = {
    "id": "0b3c5d6e-0000-4000-8000-0000000000d1",
    "enterprise_id": ME["enterprise_id"],
    "amount": "800000.00",
    "term_months": 24,
    "purpose": "采购原材料",
    "financing_type": "credit",
    "repayment_method": None,
    "status": "matching",
    "created_at": "2030-01-15T02:30:00Z",
}


def test_demand_status_names_the_institutions(api: FakeApi) -> None:
    demand = DEMAND["id"]
    api.on(
        "GET",
        f"/api/v1/demands/{demand}/progress",
        {"demand_id": demand, "stage": "awaiting_responses", "eligible_products": 2},
    )
    api.on(
        "GET",
        f"/api/v1/demands/{demand}",
        {
            **DEMAND,
            "status": "awaiting_responses",
            "applicable_policies": {},
            "matches": [],
            "responses": [
                {
                    "institution_id": INSTITUTION,
                    "institution_name": "工商银行深圳分行",
                    "status": "interested",
                    "indicative_rate": "0.0395",
                    "indicative_amount": None,
                    "reason": "",
                    "due_at": "2030-01-17T02:30:00Z",
                    "responded_at": None,
                }
            ],
        },
    )
    result = run("demand", "status", demand)
    assert result.exit_code == 0, result.output
    assert label("demand_status", "awaiting_responses") in result.stdout
    line = next(x for x in result.stdout.splitlines() if "工商银行深圳分行" in x)
    assert label("response_status", "interested") in line
    assert "3.95%" in line and "2030-01-17 10:30" in line
    assert INSTITUTION not in result.stdout


# ---- repeats say so --------------------------------------------------------------------------


def test_apply_without_a_key_derives_one_so_a_second_run_applies_once(api: FakeApi) -> None:
    api.on("GET", "/api/v1/auth/me", ME)
    answers = iter(
        [
            httpx.Response(201, json=application()),
            httpx.Response(201, json=application(status="in_review"), headers=REPLAYED),
        ]
    )
    api.on("POST", "/api/v1/applications", lambda _request: next(answers))
    args = ("apply", "--product", PRODUCT, "--amount", "300000", "--term", "12")
    first, second = run(*args), run(*args)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    keys = [r.headers["Idempotency-Key"] for r in api.requests if r.method == "POST"]
    assert len(keys) == 2 and keys[0] == keys[1] and keys[0].startswith("apply-")
    assert "already done" not in first.stdout
    assert second.stdout.startswith("already done 已办理过")
    assert APP in second.stdout and label("application_stage", "in_review") in second.stdout


def test_the_derived_key_changes_with_what_is_applied_for_and_the_day() -> None:
    body = {"product_id": PRODUCT, "amount": "300000.00", "term_months": 12}
    enterprise = uuid.UUID(ME["enterprise_id"])
    today = date(2030, 1, 15)
    key = cli_main.apply_key(enterprise, body, today)
    assert key == cli_main.apply_key(enterprise, dict(body), today)
    assert key != cli_main.apply_key(enterprise, {**body, "amount": "300000.01"}, today)
    assert key != cli_main.apply_key(enterprise, {**body, "term_months": 24}, today)
    assert key != cli_main.apply_key(enterprise, body, date(2030, 1, 16))
    assert key != cli_main.apply_key(uuid.UUID(APP), body, today)  # another enterprise
    assert len(key) <= 100  # the API's limit for an Idempotency-Key


def test_a_repeated_payment_says_already_done_with_the_loan_as_it_is(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/loans/{LOAN}/payments",
        httpx.Response(200, json=LOAN_PROGRESS, headers=REPLAYED),
    )
    result = run("loan", "pay", LOAN, "25543.21", "--key", "march")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("already done 已办理过")
    assert "¥275,000.00" in result.stdout


def test_a_repeated_acceptance_says_already_done(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/applications/{APP}/acceptance",
        httpx.Response(
            200,
            json={"stage": "disbursed", "loan_id": LOAN, "account": "***************3445"},
            headers=REPLAYED,
        ),
    )
    result = run(
        "application", "accept", APP, "--name", "张三", "--account", "62220202001",
        "--sha256", PDF_SHA, "--code", "482913",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("already done 已办理过")
    assert label("application_stage", "disbursed") in result.stdout and LOAN in result.stdout


def test_demand_post_repeated_says_already_done(api: FakeApi) -> None:
    api.on("POST", "/api/v1/demands", httpx.Response(201, json=DEMAND, headers=REPLAYED))
    result = run(
        "demand", "post", "--amount", "800000", "--term", "24", "--purpose", "采购原材料",
        "--key", "d-1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("already done 已办理过")
    assert "¥800,000.00" in result.stdout and label("demand_status", "matching") in result.stdout


# ---- clean errors ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["pay", "prepay"])
def test_a_negative_amount_is_a_field_error_not_an_unknown_option(
    api: FakeApi, command: str
) -> None:
    extra = ["--strategy", "reduce_installment_count"] if command == "prepay" else []
    result = run("loan", command, LOAN, "-1", *extra)
    assert result.exit_code != 0
    assert api.requests == []
    assert result.stderr.strip() == (
        "error: AMOUNT: 金额须大于 0（输入为 -1） / the amount must be more than 0 (you gave -1)"
    )
    assert "No such option" not in result.output


def test_several_bad_values_are_reported_together_before_any_request(api: FakeApi) -> None:
    result = run(
        "apply", "--product", PRODUCT, "--amount", "-1", "--term", "0", "--method", "monthly",
        "--material", "photos",
    )  # fmt: skip
    assert result.exit_code != 0
    assert api.requests == []
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: 4 处输入有误 / 4 values are wrong"
    assert [line.split(":")[0].strip() for line in lines[1:]] == [
        "--amount",
        "--term",
        "--method",
        "--material",
    ]
    assert label("repayment_method", "equal_installment") in lines[3]  # the choices, in words
    assert "Traceback" not in result.output


def test_the_apis_field_errors_are_named_as_the_commands_options(api: FakeApi) -> None:
    api.on(
        "POST",
        "/api/v1/applications",
        refusal(
            422,
            "validation_failed",
            [
                ("amount", "金额须在 100,000.00 至 3,000,000.00 元之间", "The amount must be …"),
                ("term_months", "期限须在 6 至 36 个月之间", "The term must be …"),
            ],
        ),
    )
    result = run("apply", "--product", PRODUCT, "--amount", "50", "--term", "3", "--key", "k")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: 输入有误，请检查标出的字段 / Some fields are invalid",
        "  --amount: 金额须在 100,000.00 至 3,000,000.00 元之间 / The amount must be …",
        "  --term: 期限须在 6 至 36 个月之间 / The term must be …",
    ]


def test_a_missing_file_is_named_not_a_traceback(api: FakeApi, tmp_path: Path) -> None:
    missing = tmp_path / "front.jpg"
    result = run("onboarding", "upload", "id_front", str(missing))
    assert result.exit_code != 0
    assert api.requests == []
    assert result.stderr.strip() == (
        f"error: FILE: 文件不存在：{missing} / no such file: {missing}"
    )


def test_an_unknown_document_kind_and_a_missing_file_together(api: FakeApi, tmp_path: Path) -> None:
    result = run("onboarding", "upload", "passport", str(tmp_path))
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "error: 2 处输入有误 / 2 values are wrong"
    assert lines[1].startswith("  KIND: 'passport' 不是可选项")
    assert (
        lines[2]
        == f"  FILE: 这是一个目录，不是文件：{tmp_path} / a directory, not a file: {tmp_path}"
    )


def test_a_role_refusal_reaches_the_user_in_both_languages(api: FakeApi) -> None:
    api.on(
        "POST",
        f"/api/v1/loans/{LOAN}/payments",
        conflict(
            "auth.role_not_allowed",
            "当前角色（信贷员）无权执行此操作，仅限：企业用户",
            "Your role (credit officer) may not do this; it is for: enterprise user",
        ),
    )
    result = run("loan", "pay", LOAN, "100")
    assert result.exit_code != 0
    assert result.stderr.strip() == (
        "error: 当前角色（信贷员）无权执行此操作，仅限：企业用户 / "
        "Your role (credit officer) may not do this; it is for: enterprise user"
    )


# ---- registration ----------------------------------------------------------------------------

# Everything but the ID number and the password, which are always asked (never typed on the
# command line, where the shell's history would keep them).
REGISTER = [
    "register", "--enterprise-name", "云桥科技", "--uscc", "91440300MA5FXXXX1X",
    "--registered-capital", "1000000", "--founding-date", "2020-01-01",
    "--industry", "I", "--region", "440305", "--legal-rep-name", "张三",
    "--mobile", "13900000001", "--username", "yunqiao",
]  # fmt: skip
ACK = {
    "enterprise_id": "0b3c5d6e-0000-4000-8000-0000000000e1",
    "stage": "awaiting_otp",
    "otp_sent_to": "139****0001",
    "registration_secret": "s3cret",
}


def test_register_shows_the_password_rules_and_asks_again_only_what_was_refused(
    api: FakeApi,
) -> None:
    answers = iter(
        [
            refusal(
                422,
                "validation_failed",
                [
                    ("enterprise.uscc", "校验码错误", "The check character is wrong"),
                    ("account.password", "密码过于常见或包含用户名", "too common"),
                ],
            ),
            httpx.Response(201, json=ACK),
        ]
    )
    api.on("POST", "/api/v1/registrations", lambda _request: next(answers))
    api.on(
        "POST",
        f"/api/v1/registrations/{ACK['enterprise_id']}/otp",
        {
            "enterprise_id": ACK["enterprise_id"],
            "stage": "awaiting_documents",
            "missing_documents": ["id_front", "business_licence"],
        },
    )
    typed = (
        "\n".join(
            [
                "110101199003071234",  # ID number (hidden)
                "Weak#Pass1word",  # password
                "Weak#Pass1word",  # its confirmation
                "91440300MA5FXXXX1Y",  # the USCC again
                "Str0ng#Passw0rd!",  # the password again
                "Str0ng#Passw0rd!",
                "123456",  # the one-time code
            ]
        )
        + "\n"
    )
    result = CliRunner().invoke(cli_main.app, REGISTER, input=typed)
    assert result.exit_code == 0, result.output
    first, second = (json.loads(r.content) for r in api.requests if r.url.path.endswith("tions"))
    assert first["enterprise"]["uscc"] == "91440300MA5FXXXX1X"
    assert second["enterprise"]["uscc"] == "91440300MA5FXXXX1Y"
    assert second["account"]["password"] == second["account"]["password_confirmation"]
    assert second["account"]["password"] == "Str0ng#Passw0rd!"
    unchanged = ("name", "registered_capital", "founding_date", "industry", "region")
    assert all(first["enterprise"][k] == second["enterprise"][k] for k in unchanged)
    assert first["legal_representative"] == second["legal_representative"]
    output = result.output
    asked = [line.split(":")[0] for line in output.splitlines() if ": " in line[:40]]
    # Asked once: the ID number; again: the refused USCC and password; never: the rest.
    assert asked.count("身份证号 ID number") == 1
    assert asked.count("统一社会信用代码 USCC") == 1  # given as an option, asked when refused
    assert asked.count("密码 Password") == 2
    assert asked.count("企业名称 Enterprise name") == 0
    rules = output.index("The password needs 10–128 characters")
    assert rules < output.index("密码 Password:")  # the rules come before the question
    assert "  统一社会信用代码 USCC: 校验码错误 / The check character is wrong" in output
    assert "手持身份证照片" not in output and "身份证人像面 ID card, photo side" in output


def test_register_stops_on_a_refusal_it_cannot_ask_about(api: FakeApi) -> None:
    api.on(
        "POST",
        "/api/v1/registrations",
        httpx.Response(
            429,
            json={
                "error": {
                    "code": "registration.throttled",
                    "message_zh": "注册过于频繁，请稍后再试",
                    "message_en": "Too many registrations; try again later",
                    "fields": [],
                }
            },
        ),
    )
    typed = "110101199003071234\nStr0ng#Passw0rd!\nStr0ng#Passw0rd!\n"
    result = CliRunner().invoke(cli_main.app, REGISTER, input=typed)
    assert result.exit_code == 2
    assert "注册过于频繁，请稍后再试 / Too many registrations; try again later" in result.output
    assert len(api.requests) == 1


def test_compare_shows_yuan_and_rates_with_the_lenders_by_name(
    api: FakeApi, tmp_path: Path
) -> None:
    demand = DEMAND["id"]
    quote = {
        "product_id": PRODUCT,
        "product_name": "经营快贷",
        "institution_name": "工商银行深圳分行",
        "institution_interested": True,
        "amount": "600000.00",
        "term_months": 12,
        "rate": "0.0365",
        "method": "equal_installment",
        "first_installment": "50994.05",
        "max_installment": "50994.05",
        "total_interest": "11928.54",
        "total_fees": "1200.00",
        "total_cost": "13128.54",
        "apr": "0.0402",
        "effective_annual_rate": "0.0409",
        "subsidy": "4771.42",
        "net_cost": "8357.12",
        "response_sla_hours": 48,
    }
    api.on("GET", f"/api/v1/demands/{demand}/comparison", [quote])
    api.on("GET", f"/api/v1/demands/{demand}/comparison.pdf", httpx.Response(200, content=b"%PDF"))
    result = run("compare", demand, "--pdf", str(tmp_path / "sheet.pdf"))
    assert result.exit_code == 0, result.output
    row = result.stdout.splitlines()[1].split()
    assert row[:7] == [
        "4.02%", "3.65%", "¥50,994.05", "¥11,928.54", "¥1,200.00", "¥4,771.42", "¥8,357.12"
    ]  # fmt: skip
    assert " ".join(row[7:]) == "工商银行深圳分行 / 经营快贷"
    assert (tmp_path / "sheet.pdf").read_bytes() == b"%PDF"
