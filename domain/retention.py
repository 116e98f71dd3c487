"""Data retention: how long each kind of record is kept and what happens after (pure rules)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from domain.origination import LOAN_NOT_DISBURSED


class RetentionAction(StrEnum):
    DELETE = "delete"  # the rows go
    ERASE_PERSONAL = "erase_personal"  # personal columns overwritten; the business row stays
    KEEP = "keep"  # never touched by the job


@dataclass(frozen=True, slots=True)
class RetentionRule:
    """One record type's rule; ``days`` counts from ``starts`` (0 with KEEP: forever)."""

    record_type: str
    days: int
    starts: str
    action: RetentionAction
    basis_zh: str
    basis_en: str


OTP_CHALLENGE = RetentionRule(
    "otp_challenge",
    30,
    "code sent",
    RetentionAction.DELETE,
    "验证码仅在有效期内及滥用排查期间需要（只保存其密钥哈希）",
    "Needed only while valid and for abuse review (only a keyed hash is stored)",
)
LOGIN_ATTEMPT = RetentionRule(
    "login_attempt",
    180,
    "attempt",
    RetentionAction.DELETE,
    "《网络安全法》第二十一条：网络日志留存不少于六个月",
    "Cybersecurity Law art. 21: network logs kept at least six months",
)
REFRESH_TOKEN = RetentionRule(
    "refresh_token",
    30,
    "token expiry",
    RetentionAction.DELETE,
    "过期后仅用于重放检测，30 天后无用",
    "After expiry only reuse detection needs it; useless after 30 days",
)
IDEMPOTENCY_KEY = RetentionRule(
    "idempotency_key",
    90,
    "key first used",
    RetentionAction.DELETE,
    "仅用于识别客户端重试；重试窗口过后无用",
    "Only recognises a client's retries; useless once the retry window has passed",
)
NOTIFICATION = RetentionRule(
    "notification",
    3 * 365,
    "sent",
    RetentionAction.DELETE,
    "站内信副本；短信和邮件已送达，业务事实在决策日志和业务表中",
    "In-app copies; SMS and e-mail were delivered, the facts stay in the decision log and tables",
)
UNVERIFIED_ENTERPRISE = RetentionRule(
    "enterprise_unverified",
    365,
    "registration",
    RetentionAction.ERASE_PERSONAL,
    "认证未通过或未完成且从未申请贷款：一年后删除法定代表人个人信息及认证材料（最小必要）",
    "Rejected or unfinished verification and never applied: the legal representative's "
    "personal data and KYC documents are erased after one year (data minimisation)",
)
ENDED_RELATIONSHIP = RetentionRule(
    "enterprise_relationship_ended",
    5 * 365,
    "last application or loan closure",
    RetentionAction.ERASE_PERSONAL,
    "《反洗钱法》：客户身份资料在业务关系结束后至少保存五年；申请被拒、撤回或失效且无在贷，"
    "或贷款结清五年后删除法定代表人个人信息及认证材料",
    "AML Law: customer identification kept five years after the relationship ends; after "
    "declined, withdrawn or lapsed applications without a loan, or five years after the last "
    "loan closed, the legal representative's personal data and KYC documents are erased",
)
CLOSED_LOAN = RetentionRule(
    "loan_personal_fields",
    5 * 365,
    "loan closed, written off or never disbursed",
    RetentionAction.ERASE_PERSONAL,
    "《反洗钱法》：交易记录保存五年；到期后删除收款账号和签署姓名，金额与账务保留",
    "AML Law: transaction records five years; then the account number and signed name are "
    "erased, amounts and accounting stay",
)
DECISION_LOG = RetentionRule(
    "decision_log",
    0,
    "never",
    RetentionAction.KEEP,
    "只追加的哈希链审计记录，只含编号和摘要、不含个人信息，永久保存且永不修改",
    "Append-only hash chain holding ids and digests, no personal data: kept and never altered",
)
LEDGER = RetentionRule(
    "ledger",
    30 * 365,
    "posting",
    RetentionAction.KEEP,
    "《会计档案管理办法》：会计凭证、账簿保存 30 年（任务不删除，到期由人工归档）",
    "Accounting Archives Measures: vouchers and books 30 years (archived by hand, not by the job)",
)
WORKFLOW_HISTORY = RetentionRule(
    "workflow_history",
    0,
    "workflow closed",
    RetentionAction.KEEP,
    "Temporal 命名空间的保留期决定已结束流程历史的保存时长；生产环境须不短于审计期限，"
    "业务事实另存于决策日志和业务表",
    "The Temporal namespace's retention period keeps closed histories; set it to the audit "
    "horizon in production — the business facts also live in the decision log and tables",
)

RETENTION_RULES: tuple[RetentionRule, ...] = (
    OTP_CHALLENGE,
    LOGIN_ATTEMPT,
    REFRESH_TOKEN,
    IDEMPOTENCY_KEY,
    NOTIFICATION,
    UNVERIFIED_ENTERPRISE,
    ENDED_RELATIONSHIP,
    CLOSED_LOAN,
    DECISION_LOG,
    LEDGER,
    WORKFLOW_HISTORY,
)

# Onboarding ended without a verified enterprise; applications ended without a loan.
UNVERIFIED_END_STATUSES = frozenset({"rejected", "lapsed", "expired"})
APPLICATION_END_STATUSES = frozenset(
    {"declined", "withdrawn", "lapsed", "expired", "offer_refused", "disbursement_failed"}
)
# A loan the bank never paid out is finished too: the relationship can end.
CLOSED_LOAN_STATUSES = frozenset({"closed", "written_off", LOAN_NOT_DISBURSED})
ERASED_NAME = "（已删除）"


def cutoff(rule: RetentionRule, as_of: date) -> date:
    """Records whose clock started before this day are due under the rule."""
    if rule.action is RetentionAction.KEEP:
        raise ValueError(f"{rule.record_type} is kept; it has no cut-off")
    return as_of - timedelta(days=rule.days)
