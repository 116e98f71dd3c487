"""The raw-code detector finds every kind of machine text a person must not read — planted
one at a time — and leaves people's words, amounts, dates and names alone."""

from __future__ import annotations

import pytest

from tests.raw_codes import find_code_cells, find_raw_codes, visible_text

CLEAN = (
    "徐明娜（信贷审批员） 2026-12-07 21:34 授信审批 ¥1,200,000.00 4.80% 起 "
    "申请金额相对营业收入偏高 广东省深圳市 WEB-1 v2 LB-3F2A9C1D0B7E offer_letter.pdf "
    "demo@example.com http://127.0.0.1:8000/web/inbox SHA-256 3f2a9c1d0b7e4f55"
)


def test_what_people_read_passes() -> None:
    assert find_raw_codes(CLEAN, "zh") == []
    assert find_raw_codes("Offer made · Credit officer · Shenzhen, Guangdong", "en") == []


@pytest.mark.parametrize(
    ("planted", "kind"),
    [
        ("not_disbursed", "snake_case"),
        ("model.request_to_revenue", "dotted"),
        ("credit.beyond_authority", "dotted"),
        ("application-0b3e6a4c-5a8e-4a1f-9d51-2f3c1e0a9b77", "uuid"),
        ("2026-12-07T13:34:05+00:00", "utc_timestamp"),
        ("2026-12-07 13:34 UTC", "utc_timestamp"),
        ("2026-12-07T13:34:05Z", "utc_timestamp"),
        ("offered", "code_word"),
    ],
)
def test_a_planted_code_is_found(planted: str, kind: str) -> None:
    findings = find_raw_codes(f"{CLEAN} 阶段：{planted}。", "zh")
    assert [f.kind for f in findings] == [kind], findings
    assert planted in findings[0].code or findings[0].code in planted


def test_a_status_word_is_a_code_only_on_a_chinese_page() -> None:
    assert find_raw_codes("阶段：offered", "zh")
    assert find_raw_codes("We offered you a loan", "en") == []


def test_visible_text_reads_text_nodes_not_attributes_scripts_or_machine_blocks() -> None:
    html = (
        '<html><head><title>收件箱</title><script>var x = "in_review";</script></head>'
        '<body><tr data-subject="application-0b3e6a4c-5a8e-4a1f-9d51-2f3c1e0a9b77" '
        'title="user:0b3e6a4c-5a8e-4a1f-9d51-2f3c1e0a9b77"><td>人工审批中</td></tr>'
        "<details data-machine><summary>记录原文</summary><code>amount=1, key=pay_1</code>"
        "</details><p>结束<br>了</p></body></html>"
    )
    text = visible_text(html)
    assert "人工审批中" in text and "记录原文" not in text and "结束" in text
    assert find_raw_codes(text, "zh") == []
    planted = html.replace("<td>人工审批中</td>", "<td>in_review</td>")
    assert [f.code for f in find_raw_codes(visible_text(planted), "zh")] == ["in_review"]


def test_a_handle_is_an_id_only_where_it_stands_alone() -> None:
    loan = "0b3e6a4c-5a8e-4a1f-9d51-2f3c1e0a9b77"
    handles = frozenset({loan})
    assert find_raw_codes(f"贷款 {loan}  已放款", "zh", handles=handles) == []
    assert [f.kind for f in find_raw_codes(f"任务 loan-{loan}", "zh", handles=handles)] == ["uuid"]
    other = "1c4f7b5d-6b9f-4b2a-8e62-3a4d2f1b0c88"
    assert [f.code for f in find_raw_codes(f"贷款 {other}", "zh", handles=handles)] == [other]
    assert find_raw_codes(f"loan-{loan}", "zh", handles=frozenset({f"loan-{loan}"})) == []


def test_a_value_to_type_is_a_code_except_where_listed_with_its_words() -> None:
    typed = frozenset({"id_front", "reduce_installment_count"})
    listed = "--strategy: 'x' 不是可选项，可选：reduce_installment_count (缩短期限 Fewer)"
    assert find_raw_codes(listed, "en", typed=typed) == []
    assert [f.code for f in find_raw_codes(listed, "en")] == ["reduce_installment_count"]
    for planted in ("已上传 id_front", "stage (阶段) in_review (人工审批中)"):
        assert len(find_raw_codes(planted, "en", typed=typed)) == 1, planted


def test_a_status_word_standing_as_a_table_cell_is_a_code() -> None:
    clean = (
        "0b3e6a4c  已提交 Submitted    submitted 提交于 2026-12-07 22:42\n"
        "  no. due date    paid status\n"
        "调查中 Investigating  高 High   上海中鑫商贸有限公司"
    )
    assert find_code_cells(clean) == []
    for planted in ("0b3e6a4c  investigating  high", "offered", "状态 · offered  ¥1.00"):
        assert [f.kind for f in find_code_cells(f"{clean}\n{planted}")] == ["code_cell"] * (
            2 if "high" in planted else 1
        ), planted
    assert find_code_cells("登录名  compliance", frozenset({"compliance"})) == []
