"""The applicant portal's origination pages over HTTP (an httpx "browser" on the API app with the
real workflows): a demand posted with its fields checked as the owner types and refused inline,
its matches and the lender's answer in words, the offers compared and the sheet downloaded, an
application from a matched product with its materials, the officer's question answered, the
offer letter read and accepted with the signer's code, the disbursement shown masked; and each
refusal (a wrong field, a code missing, a closed case) shown on its page, never a 500."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.integration.conftest import Platform
from tests.integration.material_files import STATEMENTS
from tests.integration.origination_support import (
    answer_demand,
    approve,
    ask,
    decide,
    lender_and_applicant,
)
from tests.integration.test_application_api import ACCOUNT
from tests.integration.test_onboarding_api import PASSWORD, latest_code
from tests.integration.test_portal_pages import _until, browser
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration

_UUID = r"[0-9a-f-]{36}"


async def test_an_owner_posts_compares_applies_answers_accepts_and_sees_the_money(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    case = await lender_and_applicant(platform, sandbox)
    async with browser(platform) as owner:
        await owner.login(case.username, PASSWORD)
        home = await owner.get("/portal/home")
        assert 'href="/portal/demands/new"' in home.text and "我的申请" in home.text

        form = await owner.get("/portal/demands/new")
        assert form.status_code == 200 and 'data-check="/portal/demands/check"' in form.text
        typing = await owner.post("/portal/demands/check", {"amount": "-5", "term_months": "x"})
        assert set(typing.json()["fields"]) >= {"amount", "term_months"}
        refused = await owner.post("/portal/demands", {"amount": "0", "term_months": "700"})
        assert refused.status_code == 422
        assert 'aria-invalid="true"' in refused.text and "此字段为必填项" in refused.text

        nonce = str(uuid.uuid4())
        demand = {
            "amount": "400,000",
            "term_months": "12",
            "purpose": "采购原材料",
            "financing_type": "credit",
            "repayment_method": "equal_installment",
            "nonce": nonce,
        }
        posted = await owner.post("/portal/demands", demand)
        assert posted.status_code == 303, posted.text
        demand_url = posted.headers["location"].partition("?")[0]
        again = await owner.post("/portal/demands", demand)  # a double submit makes one demand
        assert again.headers["location"].partition("?")[0] == demand_url
        demand_id = demand_url.rsplit("/", 1)[1]

        page = await _until(owner, demand_url, case.product_name)
        assert "符合条件" in page and "测试银行" in page and "¥400,000.00" in page
        await answer_demand(platform, case, demand_id)
        page = await _until(owner, demand_url, "有意向：参考年利率 3.95%")
        assert demand_id not in re.sub(r'(href|action)="[^"]*"', "", page)

        comparison = await owner.get(f"{demand_url}/comparison")
        assert comparison.status_code == 200
        assert "补贴后净成本" in comparison.text and case.product_name in comparison.text
        assert "年化利率（APR）" in comparison.text and "机构有意向" in comparison.text
        sheet = await owner.get(f"{demand_url}/comparison.pdf")
        assert (
            sheet.content.startswith(b"%PDF")
            and "attachment" in sheet.headers["content-disposition"]
        )

        apply_url = f"{demand_url}/apply?product={case.product_id}"
        apply_page = await owner.get(apply_url)
        assert apply_page.status_code == 200 and "最近一期财务报表" in apply_page.text
        assert "必需" in apply_page.text  # from ¥300,000 the financial statements are required
        assert (await owner.get(f"{demand_url}/apply?product={uuid.uuid4()}")).status_code == 404
        base = {"product": case.product_id, "term_months": "12", "purpose": "采购原材料"}
        outside = await owner.post(
            f"{demand_url}/apply",
            {**base, "amount": "5000000", "repayment_method": "equal_installment"},
        )
        assert outside.status_code == 422 and "金额须在" in outside.text
        apply_body = {
            **base,
            "amount": "400000",
            "repayment_method": "equal_installment",
            "nonce": str(uuid.uuid4()),
        }
        # A file that is not what it says is refused on its own field, the form kept.
        fake = await owner.post(
            f"{demand_url}/apply",
            apply_body,
            files={"material.financial_statements": ("报表.xlsx", b"MZ\x90\x00 not a workbook")},
        )
        assert fake.status_code == 422 and 'id="material-financial_statements-error"' in fake.text
        assert "仅支持" in fake.text  # which types are, in words
        # A refused amount keeps the file already uploaded: it need not be chosen again.
        kept = await owner.post(
            f"{demand_url}/apply",
            {**apply_body, "amount": "5000000"},
            files={"material.financial_statements": ("报表.xlsx", STATEMENTS)},
        )
        assert kept.status_code == 422 and "报表.xlsx" in kept.text
        kept_ids = re.findall(r'name="material_id" value="([0-9a-f-]{36})"', kept.text)
        assert len(kept_ids) == 1
        applied = await owner.post(f"{demand_url}/apply", {**apply_body, "material_id": kept_ids})
        assert applied.status_code == 303, applied.text
        app_url = applied.headers["location"].partition("?")[0]
        assert re.fullmatch(rf"/portal/applications/{_UUID}", app_url)
        app_id = app_url.rsplit("/", 1)[1]
        page = await _until(owner, app_url, "人工审批中")
        assert 'aria-current="step"' in page and "撤回申请" in page

        await ask(platform, case, app_id, "请说明第三季度营收下降的原因")
        page = await _until(owner, app_url, "请说明第三季度营收下降的原因")
        empty = await owner.post(f"{app_url}/information", {"answer": ""})
        assert empty.status_code == 422 and "请填写回复或上传材料" in empty.text
        answered = await owner.post(f"{app_url}/information", {"answer": "原材料涨价，已签新合同"})
        assert answered.headers["location"] == f"{app_url}?done=answered"

        await approve(platform, case, app_id)
        page = await _until(owner, app_url, "获取签约验证码")  # acceptable at once
        # the letter's PDF follows from the documents queue: the page says so until it is there
        assert "4.20%" in page and ("要约函 PDF 正在生成" in page or "offer-letter.pdf" in page)
        page = await _until(owner, app_url, f'src="{app_url}/offer-letter.pdf"')
        assert "要约函 PDF 正在生成" not in page
        assert "还款计划预览" in page and "其中利息" in page
        letter = await owner.get(f"{app_url}/offer-letter.pdf")
        assert (
            letter.content.startswith(b"%PDF") and "inline" in letter.headers["content-disposition"]
        )
        assert letter.headers["x-frame-options"] == "SAMEORIGIN"
        download = await owner.get(f"{app_url}/offer-letter.pdf?download=1")
        assert "attachment" in download.headers["content-disposition"]

        signer = {"signer_name": case.legal_rep_name, "account": ACCOUNT}
        no_code = await owner.post(f"{app_url}/acceptance", {**signer, "code": ""})
        assert no_code.status_code == 422 and 'id="code-error"' in no_code.text
        sent = await owner.post(f"{app_url}/acceptance-code")
        assert sent.status_code == 200
        assert f"验证码已发送至 {case.mobile[:3]}****{case.mobile[-4:]}" in sent.text
        code = await latest_code(sandbox, case.mobile, template="signing_code")
        wrong = await owner.post(
            f"{app_url}/acceptance", {**signer, "signer_name": "王五六", "code": code}
        )
        assert wrong.status_code == 422 and "alert error" in wrong.text
        assert ACCOUNT not in wrong.text  # the account is never echoed back
        accepted = await owner.post(f"{app_url}/acceptance", {**signer, "code": code})
        assert accepted.headers["location"] == f"{app_url}?done=accepted", accepted.text

        page = await _until(owner, app_url, "放款时间")
        assert "*" * 15 + ACCOUNT[-4:] in page and ACCOUNT not in page
        assert "¥400,000.00" in page and "已放款" in page

        # Refusals on their pages: the offer is no longer pending, the case is closed.
        no_offer = await owner.post(f"{app_url}/acceptance-code")
        assert no_offer.status_code == 409 and "alert error" in no_offer.text
        late = await owner.post(f"{app_url}/refusal", {"reason": ""})
        # The process may be closing meanwhile (its loan just opened): refused either way.
        assert late.status_code in (404, 409) and "alert error" in late.text, late.status_code
        closed = await owner.post(f"{app_url}/withdraw")
        assert closed.status_code == 409 and "alert error" in closed.text
        listed = await owner.get("/portal/applications")
        assert case.product_name in listed.text and f'href="{app_url}"' in listed.text

        withdrawn = await owner.post(f"{demand_url}/withdraw")
        assert withdrawn.headers["location"] == f"{demand_url}?done=withdrawn"
        await _until(owner, demand_url, "该需求已撤回")
        twice = await owner.post(f"{demand_url}/withdraw")
        assert twice.status_code == 409 and "该融资需求已结束" in twice.text
        assert demand_url in (await owner.get("/portal/demands")).text

        english = await owner.get(f"/portal/lang/en?next={app_url}")
        assert english.headers["location"] == app_url
        assert "Disbursement" in (await owner.get(app_url)).text


async def test_another_enterprises_demand_is_not_found_on_any_page(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    case = await lender_and_applicant(platform, sandbox)
    posted = await platform.http.post(
        "/api/v1/demands",
        json={
            "amount": "300000.00",
            "term_months": 12,
            "purpose": "购置设备",
            "financing_type": "credit",
        },
        headers=case.applicant,
    )
    assert posted.status_code == 201, posted.text
    others_demand = posted.json()["id"]
    stranger_case = await lender_and_applicant(platform, sandbox)
    async with browser(platform) as other:
        await other.login(stranger_case.username, PASSWORD)
        for url in (
            f"/portal/demands/{others_demand}",
            f"/portal/demands/{others_demand}/comparison",
            f"/portal/demands/{others_demand}/comparison.pdf",
            f"/portal/demands/{others_demand}/apply?product={case.product_id}",
            f"/portal/applications/{uuid.uuid4()}",
            "/portal/demands/not-an-id",
        ):
            answer = await other.get(url)
            assert answer.status_code == 404, url
            assert "购置设备" not in answer.text
        await other.get("/portal/demands")
        withdraw = await other.post(f"/portal/demands/{others_demand}/withdraw")
        assert withdraw.status_code == 404


async def test_an_owner_turns_a_counter_offer_down_provides_materials_and_withdraws(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    case = await lender_and_applicant(platform, sandbox)
    async with browser(platform) as owner:
        await owner.login(case.username, PASSWORD)
        await owner.get("/portal/demands/new")
        posted = await owner.post(
            "/portal/demands",
            {
                "amount": "200000",
                "term_months": "12",
                "purpose": "购置设备",
                "financing_type": "credit",
            },
        )
        demand_url = posted.headers["location"].partition("?")[0]
        await _until(owner, demand_url, case.product_name)

        async def apply(purpose: str, amount: str = "200000") -> str:
            await owner.get(f"{demand_url}/apply?product={case.product_id}")
            applied = await owner.post(
                f"{demand_url}/apply",
                {
                    "product": case.product_id,
                    "amount": amount,
                    "term_months": "12",
                    "repayment_method": "equal_installment",
                    "purpose": purpose,
                },
            )
            assert applied.status_code == 303, applied.text
            return applied.headers["location"].partition("?")[0]

        # The second asks ¥400,000 without the financial statements it then requires.
        countered, withdrawn = await apply("购置设备"), await apply("支付货款", "400000")
        same = await owner.post(
            f"{demand_url}/apply",
            {
                "product": case.product_id,
                "amount": "200000",
                "term_months": "12",
                "repayment_method": "equal_installment",
                "purpose": "购置设备",
            },
        )
        assert same.status_code == 409  # one open application per product and purpose
        assert f'href="{countered}"' in same.text

        await _until(owner, countered, "人工审批中")
        await decide(
            platform,
            case,
            countered.rsplit("/", 1)[1],
            action="counter_offer",
            reason="额度按营收核定",
            amount="150000.00",
            term_months=12,
        )
        page = await _until(owner, countered, "调整后的要约")
        assert "¥150,000.00" in page and "原申请 ¥200,000.00" in page
        too_long = await owner.post(f"{countered}/refusal", {"reason": "太" * 600})
        assert too_long.status_code == 422 and 'id="refusal-reason-error"' in too_long.text
        refused = await owner.post(f"{countered}/refusal", {"reason": "额度不够"})
        assert refused.headers["location"] == f"{countered}?done=refused"
        page = await _until(owner, countered, "申请人拒绝要约")
        assert "已结束：" in page and "获取签约验证码" not in page

        page = await _until(owner, withdrawn, "待补材料：最近一期财务报表")
        nothing = await owner.post(f"{withdrawn}/information")
        assert nothing.status_code == 422 and "请提交所缺材料" in nothing.text
        provided = await owner.post(
            f"{withdrawn}/information",
            files={"material.financial_statements": ("2025年报表.xlsx", STATEMENTS)},
        )
        assert provided.headers["location"] == f"{withdrawn}?done=answered"
        listed = await owner.get(withdrawn)
        [file_id] = re.findall(
            r'href="/portal/materials/([0-9a-f-]{36})">2025年报表.xlsx', listed.text
        )
        downloaded = await owner.get(f"/portal/materials/{file_id}")
        assert downloaded.content == STATEMENTS
        assert "attachment" in downloaded.headers["content-disposition"]
        await _until(owner, withdrawn, "人工审批中")
        gone = await owner.post(f"{withdrawn}/withdraw")
        assert gone.headers["location"] == f"{withdrawn}?done=withdrawn"
        page = await _until(owner, withdrawn, "申请人已撤回")
        assert "撤回申请</button>" not in page
