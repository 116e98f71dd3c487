"""Enterprise onboarding rules: registration checks, document kinds and the verification verdict."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from domain.errors import FieldIssue, issue
from domain.identity_codes import validate_mainland_mobile, validate_resident_id, validate_uscc
from domain.lifecycle import EnterpriseStatus

# GB/T 4754-2017 sections (门类).
INDUSTRY_SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业", "B": "采矿业", "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业", "E": "建筑业", "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业", "H": "住宿和餐饮业", "I": "信息传输、软件和信息技术服务业",
    "J": "金融业", "K": "房地产业", "L": "租赁和商务服务业", "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业", "O": "居民服务、修理和其他服务业", "P": "教育",
    "Q": "卫生和社会工作", "R": "文化、体育和娱乐业", "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}  # fmt: skip

# GB/T 2260 province-level prefixes (first two digits of a region code).
PROVINCE_PREFIXES = frozenset(
    {
        *("11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36"),
        *("37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62"),
        *("63", "64", "65", "71", "81", "82"),
    }
)


@dataclass(frozen=True, slots=True)
class RegistrationFacts:
    """The registration form's fields that rules look at (already type-checked by the API)."""

    enterprise_name: str
    uscc: str
    registered_capital: Decimal
    founding_date: date
    industry: str
    region: str
    legal_rep_name: str
    legal_rep_id_number: str
    mobile: str


def check_registration(facts: RegistrationFacts, today: date) -> list[FieldIssue]:
    """Every problem of a registration form at once, each pointing at its field."""
    issues = validate_uscc(facts.uscc, "enterprise.uscc")
    issues += validate_resident_id(
        facts.legal_rep_id_number, today, field_name="legal_representative.id_number"
    )
    issues += validate_mainland_mobile(facts.mobile, "legal_representative.mobile")
    if facts.registered_capital <= 0:
        issues.append(
            issue(
                "enterprise.registered_capital",
                "capital.not_positive",
                "注册资本必须大于 0",
                "Registered capital must be greater than 0",
            )
        )
    if facts.founding_date > today:
        issues.append(
            issue(
                "enterprise.founding_date",
                "founding_date.in_future",
                "成立日期不能晚于今天",
                "The founding date cannot be in the future",
            )
        )
    if facts.industry not in INDUSTRY_SECTIONS:
        issues.append(
            issue(
                "enterprise.industry",
                "industry.unknown",
                "行业须为国民经济行业分类门类代码（A–T）",
                "Industry must be a GB/T 4754 section letter (A–T)",
            )
        )
    if not (
        len(facts.region) == 6 and facts.region.isdigit() and facts.region[:2] in PROVINCE_PREFIXES
    ):
        issues.append(
            issue(
                "enterprise.region",
                "region.unknown",
                "地区须为 6 位行政区划代码（GB/T 2260）",
                "Region must be a 6-digit GB/T 2260 administrative code",
            )
        )
    return issues


class DocumentKind(StrEnum):
    """Materials of the verification stage."""

    ID_FRONT = "id_front"
    ID_BACK = "id_back"
    ID_HANDHELD = "id_handheld"
    BUSINESS_LICENCE = "business_licence"


VERIFICATION_DOCUMENTS = frozenset(DocumentKind)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff_content_type(head: bytes) -> str | None:
    """The type the bytes really are (PDF, JPEG, PNG), whatever the file is called."""
    for magic, content_type in _MAGIC:
        if head.startswith(magic):
            return content_type
    return None


def check_file(
    size: int, recognised: bool, *, limit: int, accepted: tuple[str, str], field: str = "file"
) -> list[FieldIssue]:
    """An upload's first problem: empty, larger than ``limit`` bytes, or not of a type
    ``accepted`` names (zh, en) judged by its content (``recognised``)."""
    if size == 0:
        return [issue(field, "upload.empty", "文件为空", "The file is empty")]
    megabytes = limit // (1024 * 1024)
    if size > limit:
        return [
            issue(
                field,
                "upload.too_large",
                f"文件不能超过 {megabytes} MB",
                f"The file may be at most {megabytes} MB",
            )
        ]
    if not recognised:
        zh, en = accepted
        return [
            issue(
                field,
                "upload.unsupported_type",
                f"仅支持 {zh} 文件",
                f"Only {en} files are accepted",
            )
        ]
    return []


def check_upload(size: int, head: bytes, field: str = "file") -> list[FieldIssue]:
    """Size ≤ 10 MB, not empty, and a PDF/JPEG/PNG by its magic number."""
    return check_file(
        size,
        sniff_content_type(head) is not None,
        limit=MAX_UPLOAD_BYTES,
        accepted=("PDF、JPEG、PNG", "PDF, JPEG and PNG"),
        field=field,
    )


class Verdict(StrEnum):
    VERIFIED = "verified"
    REJECTED = "rejected"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class VerificationOutcome:
    """The automatic verdict and the reason code behind it."""

    verdict: Verdict
    reason: str


def _normalised_name(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name)
    return "".join(c for c in folded if c.isalnum()).casefold()


def verification_verdict(
    *,
    identity_result: str | None,
    registry_found: bool | None,
    registry_status: str | None,
    registry_name: str | None,
    registry_legal_rep: str | None,
    enterprise_name: str,
    legal_rep_name: str,
) -> VerificationOutcome:
    """Combine the identity bureau's and the registry's answers (None = provider failed).

    Definitive refusals reject; a failing provider, an inconclusive identity check or a name
    that differs only in punctuation, width or spacing goes to a person.
    """
    if identity_result in ("MISMATCH", "NOT_FOUND"):
        return VerificationOutcome(Verdict.REJECTED, f"identity.{identity_result.lower()}")
    if registry_found is False:
        return VerificationOutcome(Verdict.REJECTED, "registry.not_found")
    if registry_status is not None and registry_status != "ACTIVE":
        return VerificationOutcome(Verdict.REJECTED, f"registry.{registry_status.lower()}")
    if registry_legal_rep is not None and registry_legal_rep != legal_rep_name:
        return VerificationOutcome(Verdict.REJECTED, "registry.legal_rep_mismatch")
    if identity_result is None or registry_found is None:
        return VerificationOutcome(Verdict.REVIEW, "provider.unavailable")
    if identity_result == "INCONCLUSIVE":
        return VerificationOutcome(Verdict.REVIEW, "identity.inconclusive")
    if registry_name != enterprise_name:
        if registry_name and _normalised_name(registry_name) == _normalised_name(enterprise_name):
            return VerificationOutcome(Verdict.REVIEW, "registry.name_minor_mismatch")
        return VerificationOutcome(Verdict.REJECTED, "registry.name_mismatch")
    return VerificationOutcome(Verdict.VERIFIED, "all_checks_passed")


REJECTION_REASONS_ZH: dict[str, str] = {
    "identity.mismatch": "法定代表人身份信息不一致",
    "identity.not_found": "未查到法定代表人身份信息",
    "registry.not_found": "未在企业登记信息中查到该企业",
    "registry.revoked": "企业营业执照已被吊销",
    "registry.cancelled": "企业已注销",
    "registry.legal_rep_mismatch": "法定代表人与登记信息不一致",
    "registry.name_mismatch": "企业名称与登记信息不一致",
    "uscc.claimed_by_another": "该统一社会信用代码已由另一注册通过核验",
}

USCC_CLAIMED = "uscc.claimed_by_another"
"""Another registration of the same USCC had its legal representative confirmed first."""


# ---- the way forward after a "no" (issue 18, defect 8) ------------------------------------

RESUBMITTABLE_STAGES = frozenset({EnterpriseStatus.REJECTED, EnterpriseStatus.LAPSED})
"""An onboarding that ended in one of these may be corrected and resubmitted by its applicant;
an expired one left nothing behind (register again), a verified one is done."""

CORRECTABLE_FIELDS = (
    "enterprise.name",
    "legal_representative.name",
    "legal_representative.id_number",
)
"""What verification compares and a resubmission may correct. The USCC is the enterprise's
identity (register again for another one); the mobile needs a new one-time code (support)."""


class NextStep(StrEnum):
    """The way forward a user can take after a rejection or a lapse."""

    CORRECT_AND_RESUBMIT = "correct_and_resubmit"
    RESUBMIT = "resubmit"
    CONTACT_REGISTRY_THEN_RESUBMIT = "contact_registry_then_resubmit"
    CHECK_USCC = "check_uscc"
    CONTACT_SUPPORT = "contact_support"


@dataclass(frozen=True, slots=True)
class RejectionGuidance:
    """Why the onboarding stopped, what to correct (field names) and what to do next."""

    code: str
    message_zh: str
    message_en: str
    fields: tuple[str, ...]
    next_step: NextStep


_REGISTRY_AUTHORITY_ZH = (
    "这不是填写错误：请联系登记机关（市场监督管理部门）处理，执照恢复正常（存续）后可重新提交认证"
)
_REGISTRY_AUTHORITY_EN = (
    "this is not a typing error: contact the registration authority (the market regulation "
    "administration); once the licence is active again, resubmit the verification"
)

_GUIDANCE: dict[str, RejectionGuidance] = {
    g.code: g
    for g in (
        RejectionGuidance(
            "identity.mismatch",
            "法定代表人姓名与身份证号码不一致：请按身份证核对法定代表人姓名和身份证号码，更正后重新提交",
            "The legal representative's name and ID number do not match: check both against "
            "the ID card, correct them and resubmit",
            ("legal_representative.name", "legal_representative.id_number"),
            NextStep.CORRECT_AND_RESUBMIT,
        ),
        RejectionGuidance(
            "identity.not_found",
            "未查到法定代表人身份信息：请核对身份证号码，更正后重新提交",
            "The legal representative's identity was not found: check the ID number, correct "
            "it and resubmit",
            ("legal_representative.id_number", "legal_representative.name"),
            NextStep.CORRECT_AND_RESUBMIT,
        ),
        RejectionGuidance(
            "registry.legal_rep_mismatch",
            "法定代表人与企业登记信息不一致：请填写营业执照上登记的法定代表人姓名，更正后重新提交",
            "The legal representative differs from the registry: enter the name on the "
            "business licence and resubmit",
            ("legal_representative.name",),
            NextStep.CORRECT_AND_RESUBMIT,
        ),
        RejectionGuidance(
            "registry.name_mismatch",
            "企业名称与登记信息不一致：请填写与营业执照完全一致的企业名称，更正后重新提交",
            "The enterprise name differs from the registry: enter the name exactly as on the "
            "business licence and resubmit",
            ("enterprise.name",),
            NextStep.CORRECT_AND_RESUBMIT,
        ),
        RejectionGuidance(
            "registry.not_found",
            "未在企业登记信息中查到该统一社会信用代码：若代码填写有误，请用正确代码重新注册；"
            "若企业刚完成登记，请待登记信息可查后重新提交",
            "The USCC is not in the enterprise registry: if it was mistyped, register again "
            "with the right code; if the enterprise was registered only recently, resubmit "
            "once the registry shows it",
            (),
            NextStep.CHECK_USCC,
        ),
        RejectionGuidance(
            "registry.revoked",
            f"企业营业执照已被吊销，{_REGISTRY_AUTHORITY_ZH}",
            f"The business licence is revoked; {_REGISTRY_AUTHORITY_EN}",
            (),
            NextStep.CONTACT_REGISTRY_THEN_RESUBMIT,
        ),
        RejectionGuidance(
            "registry.cancelled",
            f"企业已注销，{_REGISTRY_AUTHORITY_ZH}",
            f"The enterprise is deregistered; {_REGISTRY_AUTHORITY_EN}",
            (),
            NextStep.CONTACT_REGISTRY_THEN_RESUBMIT,
        ),
        RejectionGuidance(
            USCC_CLAIMED,
            "该统一社会信用代码已由另一注册通过法定代表人核验并占用。若贵企业从未授权该注册，"
            "请联系平台客服并提供营业执照和法定代表人身份证明，由平台核实处理",
            "Another registration of this USCC had its legal representative confirmed first "
            "and holds the code. If your enterprise never authorised it, contact platform "
            "support with the business licence and the legal representative's ID",
            (),
            NextStep.CONTACT_SUPPORT,
        ),
        RejectionGuidance(
            "documents.not_provided",
            "认证材料未在规定时间内上传：请重新提交并上传材料",
            "The verification documents were not uploaded in time: resubmit and upload them",
            (),
            NextStep.RESUBMIT,
        ),
    )
}


def rejection_guidance(reason: str) -> RejectionGuidance:
    """The guidance for a stored reason; a reviewer's own words are shown as they wrote them."""
    known = _GUIDANCE.get(reason)
    if known is not None:
        return known
    if reason.startswith("registry."):  # another registry status than active
        return RejectionGuidance(
            reason,
            f"企业登记状态异常，{_REGISTRY_AUTHORITY_ZH}",
            f"The registry status is not active; {_REGISTRY_AUTHORITY_EN}",
            (),
            NextStep.CONTACT_REGISTRY_THEN_RESUBMIT,
        )
    said = "" if reason in ("", "review.rejected") else reason
    return RejectionGuidance(
        "review.rejected",
        f"平台审核未通过{'：' + said if said else ''}。请按审核意见更正后重新提交",
        f"The platform review did not approve{': ' + said if said else ''}. Correct what the "
        "review names and resubmit",
        CORRECTABLE_FIELDS,
        NextStep.CORRECT_AND_RESUBMIT,
    )
