"""How the CLI shows things to people: words for machine codes, ¥ amounts, rates and Beijing time.

Every machine code the CLI prints (a stage, a status, a kind, a reason) goes through
:func:`label`, so one catalogue decides the words; until the platform's shared catalogue is
wired in here, a small table of the codes the CLI shows stands in for it. Its vocabularies are
named as the catalogue's (``domain.labels.Vocabulary``), so wiring it in is one function.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from domain.calendar import BUSINESS_TZ
from domain.money import to_fen
from domain.origination import MATERIAL_LABELS
from domain.roles import ROLE_NAMES

# vocabulary → code → (Chinese, English)
_FALLBACK: dict[str, dict[str, tuple[str, str]]] = {
    "application_stage": {
        "submitted": ("已提交", "submitted"),
        "materials_requested": ("待补材料", "materials requested"),
        "assessing": ("评估中", "being assessed"),
        "in_review": ("人工审查中", "in review"),
        "info_requested": ("待回答审查问题", "question to answer"),
        "approved": ("已批准", "approved"),
        "offered": ("待接受要约", "offer to accept"),
        "counter_offered": ("待接受调整方案", "counter-offer to accept"),
        "accepted": ("已接受", "accepted"),
        "disbursing": ("放款中", "being paid out"),
        "disbursed": ("已放款", "paid out"),
        "disbursement_failed": ("放款失败", "payout failed"),
        "declined": ("已拒绝", "declined"),
        "offer_refused": ("已谢绝要约", "offer turned down"),
        "withdrawn": ("已撤回", "withdrawn"),
        "lapsed": ("已失效", "lapsed"),
        "expired": ("已过期", "expired"),
    },
    "loan_status": {
        "pending": ("待放款", "awaiting payout"),
        "active": ("还款中", "being repaid"),
        "closed": ("已结清", "paid off"),
        "written_off": ("已核销", "written off"),
        "not_disbursed": ("未放款", "not paid out"),
    },
    "risk_category": {
        "normal": ("正常", "normal"),
        "special_mention": ("关注", "special mention"),
        "substandard": ("次级", "substandard"),
        "doubtful": ("可疑", "doubtful"),
        "loss": ("损失", "loss"),
    },
    "installment_status": {
        "upcoming": ("未到期", "upcoming"),
        "due": ("待还", "due"),
        "paid": ("已还", "paid"),
        "partially_paid": ("部分已还", "partly paid"),
        "overdue": ("逾期", "overdue"),
        "written_off": ("已核销", "written off"),
    },
    "repayment_method": {
        "equal_installment": ("等额本息", "equal installments"),
        "equal_principal": ("等额本金", "equal principal"),
        "interest_first": ("先息后本", "interest first"),
        "bullet": ("利随本清", "all at maturity"),
    },
    "prepayment_strategy": {
        "reduce_installment_count": ("缩短期限", "fewer installments"),
        "reduce_installment_amount": ("减少月供", "lower installments"),
    },
    "material": {m.value: names for m, names in MATERIAL_LABELS.items()},
    "document_kind": {
        "id_front": ("身份证人像面", "ID card, photo side"),
        "id_back": ("身份证国徽面", "ID card, emblem side"),
        "id_handheld": ("手持身份证照片", "photo holding the ID card"),
        "business_licence": ("营业执照", "business licence"),
        "offer_letter": ("要约函", "offer letter"),
        "contract": ("借款合同", "loan contract"),
        "addendum": ("展期补充协议", "extension addendum"),
        "settlement_certificate": ("结清证明", "settlement certificate"),
    },
    "enterprise_status": {
        "awaiting_otp": ("待确认验证码", "code to confirm"),
        "awaiting_documents": ("待上传材料", "documents to upload"),
        "verifying": ("核验中", "being verified"),
        "in_review": ("人工复核中", "in review"),
        "verified": ("已认证", "verified"),
        "rejected": ("未通过", "not verified"),
        "lapsed": ("已失效", "lapsed"),
        "expired": ("已过期", "expired"),
    },
    "task_kind": {
        "credit_approval": ("授信审批", "credit approval"),
        "extension_approval": ("展期审批", "extension approval"),
        "overdue_followup": ("逾期跟进", "overdue follow-up"),
        "verification_review": ("认证复核", "verification review"),
        "demand_response": ("融资需求回复", "demand to answer"),
    },
    "task_state": {
        "open": ("待处理", "open"),
        "claimed": ("已认领", "claimed"),
        "waiting": ("等待中", "waiting"),
        "done": ("已完成", "done"),
        "cancelled": ("已取消", "cancelled"),
    },
    "task_outcome": {
        "approved": ("已批准", "approved"),
        "rejected": ("已驳回", "rejected"),
        "declined": ("已拒绝", "declined"),
        "counter_offer": ("调整方案", "counter-offer"),
        "request_info": ("要求补充信息", "information requested"),
        "withdrawn": ("已撤回", "withdrawn"),
        "lapsed": ("已失效", "lapsed"),
    },
    "demand_status": {
        "matching": ("匹配中", "matching"),
        "awaiting_responses": ("等待机构回复", "awaiting lenders' answers"),
        "selected": ("已选定产品", "products chosen"),
        "withdrawn": ("已撤回", "withdrawn"),
        "expired": ("已过期", "expired"),
        "no_match": ("无匹配产品", "no product fits"),
    },
    "response_status": {
        "pending": ("待回复", "not yet answered"),
        "reminded": ("已催办", "reminded"),
        "interested": ("有意向", "interested"),
        "declined": ("无意向", "not interested"),
        "lapsed": ("逾期未回复", "did not answer in time"),
        "cancelled": ("已取消", "cancelled"),
    },
    "institution_kind": {
        "bank": ("银行", "bank"),
        "microcredit": ("小额贷款公司", "microcredit company"),
        "guarantee": ("融资担保公司", "guarantee company"),
        "leasing": ("融资租赁公司", "leasing company"),
        "factoring": ("商业保理公司", "factoring company"),
        "trust": ("信托公司", "trust company"),
    },
    "institution_status": {
        "active": ("正常", "active"),
        "pending": ("入驻中", "being onboarded"),
        "suspended": ("已暂停", "suspended"),
    },
    "financing_type": {
        "credit": ("信用", "unsecured"),
        "guaranteed": ("担保", "guaranteed"),
        "mortgage_pledge": ("抵质押", "secured by collateral"),
    },
    "role": {role.value: names for role, names in ROLE_NAMES.items()},
    "reason": {
        "licence.revoked": ("营业执照已吊销", "licence revoked"),
        "licence.cancelled": ("营业执照已注销", "licence cancelled"),
        "bureau.current_overdue": ("当前存在逾期", "currently overdue"),
        "sanctions.hit": ("命中制裁名单", "on a sanctions list"),
        "grade.below_product_minimum": ("信用等级低于产品要求", "grade below the product's"),
        "amount.above_auto_limit": ("金额超出自动审批额度", "above the automatic limit"),
        "grade.needs_review": ("信用等级需人工审查", "grade needs a person's review"),
        "amount.below_product_minimum": ("金额低于产品下限", "below the product's minimum"),
        "amount.above_product_maximum": ("金额高于产品上限", "above the product's maximum"),
        "amount.above_revenue_cap": ("金额超出营收上限", "above the revenue cap"),
        "term.outside_product": ("期限超出产品范围", "term outside the product"),
        "rate.below_risk_based_price": ("利率低于风险定价", "rate below the risk price"),
        "auto.small_clean_case": ("小额优质自动审批", "small clean case, approved"),
        "enterprise.age_short": ("成立时间较短", "young enterprise"),
        "revenue.scale_small": ("营收规模较小", "small revenue"),
        "revenue.request_high": ("申请金额相对营收偏高", "request high against revenue"),
        "revenue.growth_unknown": ("营收增长未知", "revenue growth unknown"),
        "revenue.growth_weak": ("营收增长乏力", "weak revenue growth"),
        "profit.margin_unknown": ("利润率未知", "margin unknown"),
        "profit.margin_low": ("利润率偏低", "low margin"),
        "tax.grade_unknown": ("纳税信用等级未知", "tax grade unknown"),
        "tax.new_taxpayer": ("新办纳税人", "new taxpayer"),
        "tax.grade_low": ("纳税信用等级偏低", "low tax grade"),
        "bureau.no_record": ("无征信记录", "no bureau record"),
        "bureau.score_low": ("征信评分偏低", "low bureau score"),
        "bureau.overdue_history": ("有逾期记录", "overdue history"),
        "debt.leverage_high": ("负债率偏高", "high leverage"),
        "industry.elevated_risk": ("行业风险较高", "higher-risk industry"),
    },
}


def label(vocabulary: str, code: str) -> str:
    """The words for ``code`` of ``vocabulary``, Chinese then English (``已放款 paid out``);
    a code the catalogue does not know is shown as it is, so a test can find it."""
    names = _FALLBACK.get(vocabulary, {}).get(code)
    if names is None and vocabulary == "reason" and code.startswith("model."):
        # The credit model's reasons are worded next to its features (numpy: loaded only here).
        from credit_model.features import FEATURE_LABELS

        names = FEATURE_LABELS.get(code.removeprefix("model."))
    return f"{names[0]} {names[1]}" if names else code


def labels(vocabulary: str, codes: Sequence[str]) -> str:
    """Several codes of one vocabulary in words, separated by commas; ``无 none`` if empty."""
    return ", ".join(label(vocabulary, c) for c in codes) if codes else "无 none"


def reasons(text: str) -> str:
    """A reason as the API gives it: comma-separated reason codes in words, free text as is."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    return ", ".join(label("reason", part) for part in parts)


def money(amount: Decimal | int | str | None) -> str:
    """¥ with thousands separators, to the fen: ``¥1,234,567.80``; ``—`` when absent."""
    if amount is None or amount == "":
        return "—"
    fen = to_fen(Decimal(amount))
    return f"{'-' if fen < 0 else ''}¥{abs(fen):,.2f}"


def percent(fraction: Decimal | str | None) -> str:
    """A rate given as a fraction, as a percentage: ``0.041234`` → ``4.12%``; ``—`` when absent."""
    if fraction is None or fraction == "":
        return "—"
    try:
        return f"{(Decimal(fraction) * 100).quantize(Decimal('0.01'))}%"
    except InvalidOperation:
        return str(fraction)


def beijing(instant: datetime | str | None) -> str:
    """An instant in Beijing time (Asia/Shanghai), to the minute: ``2030-01-31 08:00``."""
    if instant is None or instant == "":
        return "—"
    when = datetime.fromisoformat(instant) if isinstance(instant, str) else instant
    if when.tzinfo is None:  # the API speaks UTC
        when = when.replace(tzinfo=UTC)
    return when.astimezone(BUSINESS_TZ).strftime("%Y-%m-%d %H:%M")


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cell(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (never cut), so tables with
    Chinese words line up."""
    return text + " " * max(0, columns - width(text))
