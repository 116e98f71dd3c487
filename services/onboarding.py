"""Enterprise onboarding as its registrant sees it: registering (every problem at once, the
USCC and username free, attempts throttled per address and mobile), who may act on a
registration (its account's token or its secret), the one-time code, documents, the
enterprise's own profile (personal data masked) and resubmitting a rejected registration."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import ConfigDict, Field, ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowFailureError,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from adapters.storage.protocol import DocumentStore
from config.crypto import FieldCipher
from config.settings import Settings
from db.models import AppUser, DecisionLogEntry, Enterprise, UsccClaim
from db.repositories import EnterpriseRepository, UserRepository
from db.security import RegistrationGuardRepository
from domain.calendar import business_today
from domain.errors import BusinessRuleError, FieldIssue, issue
from domain.identity_codes import (
    mask_mobile,
    mask_resident_id,
    normalize_resident_id,
    validate_mainland_mobile,
    validate_resident_id,
    validate_uscc,
)
from domain.labels import Vocabulary, label
from domain.onboarding import (
    RESUBMITTABLE_STAGES,
    DocumentKind,
    RegistrationFacts,
    check_registration,
    sniff_content_type,
)
from domain.onboarding import check_upload as check_upload_rules
from domain.passwords import MIN_LENGTH as MIN_PASSWORD_LENGTH
from domain.passwords import check_password_strength
from domain.roles import Role
from services.credentials import hash_password
from services.errors import Refusal, not_found
from services.inputs import (
    INDUSTRY_CODES,
    REGION_CODE,
    TWO_VISIBLE,
    Day,
    DecimalInput,
    Schema,
    ServerRule,
    field_issues,
    password_rules,
    server_rules,
)
from services.principal import Principal, require_role
from services.sessions import release_connection
from services.workflow_errors import refusal_from_workflow, run_query, run_update
from workflows.contracts import (
    SEALED_ID_NUMBER,
    SEALED_MOBILE,
    AttachDocument,
    ConfirmOtp,
    OnboardingProgress,
    Registrant,
    RegistrationAck,
    RegistrationInput,
    ResendOtp,
    Resubmission,
    TaskQueue,
    WorkflowType,
    enterprise_workflow_id,
)


def registration_secret_digest(secret: str) -> str:
    """What is stored of a registration secret (256 random bits: a plain SHA-256 suffices)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


async def registration(
    session: AsyncSession,
    caller: Principal | None,
    enterprise_id: uuid.UUID,
    secret: str | None,
) -> tuple[Enterprise, Registrant]:
    """The registration and the person acting on it, for its registrant: ``caller``, the
    holder of a current access token, when it is the enterprise's own account (that user), or
    else the right secret (the registration's own account). Unknown id and wrong secret answer
    alike (404)."""
    unknown = Refusal(
        404,
        "registration.not_found",
        "注册不存在，或注册密钥不正确",
        "No such registration, or a wrong registration secret",
    )
    enterprise = await EnterpriseRepository(session).get(enterprise_id)
    if enterprise is None:
        raise unknown
    if caller is not None and caller.enterprise_id == enterprise.id:
        return enterprise, Registrant(user_id=caller.user_id, role=caller.role.value)
    stored = enterprise.registration_secret_hash
    presented = registration_secret_digest(secret or "")
    if stored is None or not hmac.compare_digest(stored, presented):
        raise unknown
    account = await session.scalar(
        select(AppUser).where(AppUser.enterprise_id == enterprise.id).order_by(AppUser.created_at)
    )
    if account is None:  # expired meanwhile: the account went with the registration
        raise unknown
    return enterprise, Registrant(user_id=account.id, role=account.role)


# The registration form is checked as a whole by check_registration and the password rules
# (every problem at once, each with its own code); its schema states the same formats.
USCC_PATTERN = "^[0-9A-HJ-NPQRTUWXY]{18}$"
RESIDENT_ID_PATTERN = r"^\s*[0-9]{17}[0-9Xx]\s*$"  # spaces around and a lower-case x are normalised
MOBILE_PATTERN = "^1[3-9][0-9]{9}$"


def _id_number_rules(field: str) -> list[ServerRule]:
    return [
        ServerRule(field, "resident_id.bad_check_digit", "the MOD 11-2 check character"),
        ServerRule(field, "resident_id.bad_birth_date", "positions 7-14 a real calendar date"),
        ServerRule(field, "resident_id.birth_date_in_future", "born no later than today"),
        ServerRule(field, "resident_id.under_age", "at least 18 years old today"),
    ]


class EnterpriseIn(Schema):
    name: str = Field(min_length=2, max_length=200)
    uscc: str = Field(
        min_length=1,
        max_length=32,
        json_schema_extra={"pattern": USCC_PATTERN},
        description="Unified Social Credit Code (GB 32100), upper case",
    )
    registered_capital: Annotated[
        Decimal,
        DecimalInput(
            places=2,
            description='Yuan: "1234.56" or a whole number, above zero',
            checked_by="check_registration: capital.not_positive",
        ),
    ]
    founding_date: Day
    business_scope: str = Field(default="", max_length=2000)
    industry: str = Field(min_length=1, max_length=1, json_schema_extra={"enum": INDUSTRY_CODES})
    region: str = Field(
        min_length=1,
        max_length=6,
        json_schema_extra={"pattern": REGION_CODE},
        description="Six-digit GB/T 2260 code",
    )


class LegalRepresentativeIn(Schema):
    name: str = Field(min_length=2, max_length=100)
    id_number: str = Field(
        min_length=1, max_length=32, repr=False, json_schema_extra={"pattern": RESIDENT_ID_PATTERN}
    )
    mobile: str = Field(
        min_length=1, max_length=20, repr=False, json_schema_extra={"pattern": MOBILE_PATTERN}
    )


class AccountIn(Schema):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(
        min_length=1,
        max_length=128,
        repr=False,
        json_schema_extra={"minLength": MIN_PASSWORD_LENGTH},
    )
    password_confirmation: str = Field(min_length=1, max_length=128, repr=False)


class RegistrationIn(Schema):
    model_config = ConfigDict(
        json_schema_extra=server_rules(
            ServerRule(
                "enterprise.uscc",
                "uscc.bad_check_character",
                "the GB 32100 check character: a checksum JSON Schema cannot compute",
            ),
            *_id_number_rules("legal_representative.id_number"),
            ServerRule(
                "enterprise.founding_date",
                "founding_date.in_future",
                "no later than today's business date",
            ),
            *password_rules("account.password"),
            ServerRule(
                "account.password_confirmation",
                "password.confirmation_mismatch",
                "equal to account.password: JSON Schema cannot compare two fields",
            ),
        )
    )

    enterprise: EnterpriseIn
    legal_representative: LegalRepresentativeIn
    account: AccountIn
    email: str | None = Field(
        default=None, max_length=200, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$"
    )


# Too many attempts from one address or for one mobile: the refusal's code and messages, the
# field it names, that field's code (after the attempt's kind) and messages.
_TOO_MANY = {
    "address": (
        "too_many_from_address",
        "该网络地址的注册或验证码请求过多，请稍后再试",
        "Too many registrations or codes from this address; try again later",
        "client_address",
        "该网络地址的请求过多",
        "Too many requests from this address",
    ),
    "mobile": (
        "too_many_for_mobile",
        "该手机号的注册或验证码请求过多，请稍后再试",
        "Too many registrations or codes for this mobile; try again later",
        "legal_representative.mobile",
        "该手机号的请求过多，请稍后再试",
        "Too many requests for this mobile; try again later",
    ),
}


def _too_many(by: str, kind: str, retry_after_s: int) -> Refusal:
    """429 for attempts of ``kind`` over the limit by address or by mobile."""
    code, zh, en, field, field_zh, field_en = _TOO_MANY[by]
    return Refusal(
        429,
        f"registration.{code}",
        zh,
        en,
        [issue(field, f"{kind}.{code}", field_zh, field_en)],
        headers={"Retry-After": str(retry_after_s)},
    )


async def _throttle(
    session: AsyncSession,
    settings: Settings,
    client_ip: str,
    mobile_hash: str,
    kinds: tuple[str, ...],
) -> None:
    """Refuse (429) once the address or the mobile reached a limit of one of these kinds
    within the window; otherwise count this attempt (committed before any SMS is sent)."""
    guard = RegistrationGuardRepository(session)
    window = timedelta(seconds=settings.registration_window_s)
    limits = {
        guard.REGISTRATION: (
            settings.registration_max_per_ip,
            settings.registration_max_per_mobile,
        ),
        guard.CODE_SENT: (settings.otp_send_max_per_ip, settings.otp_send_max_per_mobile),
    }
    for kind in kinds:
        per_ip, per_mobile = limits[kind]
        if await guard.count(kind, window, client_ip=client_ip) >= per_ip:
            raise _too_many("address", kind, settings.registration_window_s)
        if await guard.count(kind, window, mobile_hash=mobile_hash) >= per_mobile:
            raise _too_many("mobile", kind, settings.registration_window_s)
    for kind in kinds:
        await guard.record(kind, client_ip, mobile_hash)
    await session.commit()


class EnterpriseCorrectionIn(Schema):
    name: str | None = Field(
        default=None, min_length=2, max_length=200, json_schema_extra={"pattern": TWO_VISIBLE}
    )


class LegalRepresentativeCorrectionIn(Schema):
    name: str | None = Field(
        default=None, min_length=2, max_length=100, json_schema_extra={"pattern": TWO_VISIBLE}
    )
    id_number: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        repr=False,
        json_schema_extra={"pattern": RESIDENT_ID_PATTERN},
    )


class ResubmissionIn(Schema):
    """Corrected registration facts (only what changes) and the documents to upload again."""

    model_config = ConfigDict(
        json_schema_extra=server_rules(*_id_number_rules("legal_representative.id_number"))
    )

    enterprise: EnterpriseCorrectionIn = Field(default_factory=EnterpriseCorrectionIn)
    legal_representative: LegalRepresentativeCorrectionIn = Field(
        default_factory=LegalRepresentativeCorrectionIn
    )
    reupload_documents: list[DocumentKind] = Field(default_factory=list, max_length=4)


def _registration_problems(body: RegistrationIn) -> tuple[list[FieldIssue], RegistrationFacts]:
    """Every rule problem of a well-formed registration (check characters, dates, region,
    password strength and confirmation) and the facts it states."""
    ent, rep, account = body.enterprise, body.legal_representative, body.account
    facts = RegistrationFacts(
        enterprise_name=ent.name.strip(),
        uscc=ent.uscc,
        registered_capital=ent.registered_capital,
        founding_date=ent.founding_date,
        industry=ent.industry,
        region=ent.region,
        legal_rep_name=rep.name.strip(),
        legal_rep_id_number=normalize_resident_id(rep.id_number),
        mobile=rep.mobile,
    )
    problems = check_registration(facts, business_today())
    problems += check_password_strength(account.password, account.username, "account.password")
    problems += _confirmation_problems(account.password, account.password_confirmation)
    return problems, facts


def _confirmation_problems(password: str, confirmation: str) -> list[FieldIssue]:
    if password == confirmation:
        return []
    return [
        issue(
            "account.password_confirmation",
            "password.confirmation_mismatch",
            "两次输入的密码不一致",
            "The passwords do not match",
        )
    ]


def check_registration_form(form: dict[str, Any]) -> list[FieldIssue]:
    """The problems :func:`register` would name in a registration form, without registering
    (the portal shows them as the owner types): its format problems, and once it is well
    formed, its rule problems. Whether the USCC or the username is free is told on submission
    only, so the check cannot be used to probe who registered."""
    try:
        body = RegistrationIn.model_validate(form)
    except ValidationError as exc:
        problems = field_issues(exc.errors())
        flagged = {problem.field for problem in problems}
        return problems + [p for p in _code_problems(form) if p.field not in flagged]
    return _registration_problems(body)[0]


def _part(form: dict[str, Any], name: str) -> dict[str, Any]:
    part = form.get(name)
    return part if isinstance(part, dict) else {}


def _code_problems(form: dict[str, Any]) -> list[FieldIssue]:
    """The check characters and the password rules of a form not yet complete: each field
    typed so far checked on its own, as :func:`_registration_problems` checks it."""
    ent, rep, account = (
        _part(form, name) for name in ("enterprise", "legal_representative", "account")
    )
    today = business_today()
    problems: list[FieldIssue] = []
    if uscc := str(ent.get("uscc") or ""):
        problems += validate_uscc(uscc, "enterprise.uscc")
    if id_number := str(rep.get("id_number") or ""):
        field = "legal_representative.id_number"
        problems += validate_resident_id(normalize_resident_id(id_number), today, field_name=field)
    if mobile := str(rep.get("mobile") or ""):
        problems += validate_mainland_mobile(mobile, "legal_representative.mobile")
    if password := str(account.get("password") or ""):
        username = str(account.get("username") or "")
        problems += check_password_strength(password, username, "account.password")
        problems += _confirmation_problems(
            password, str(account.get("password_confirmation") or "")
        )
    return problems


async def register(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    client_ip: str,
    body: RegistrationIn,
) -> tuple[RegistrationAck, str]:
    """Register an enterprise and its applicant account; a one-time code goes to the mobile.
    The acknowledgement, and the registration secret that later anonymous calls present."""
    ent, rep, account = body.enterprise, body.legal_representative, body.account
    problems, facts = _registration_problems(body)
    if problems:
        raise BusinessRuleError(problems)
    await _free_to_register(session, ent.uscc, account.username)
    cipher = FieldCipher.from_settings(settings)
    await _throttle(
        session,
        settings,
        client_ip,
        cipher.lookup_hash(rep.mobile, purpose="mobile"),
        (RegistrationGuardRepository.REGISTRATION, RegistrationGuardRepository.CODE_SENT),
    )
    enterprise_id = uuid.uuid4()
    secret = secrets.token_urlsafe(32)
    registration = RegistrationInput(
        enterprise_id=enterprise_id,
        user_id=uuid.uuid4(),
        username=account.username,
        password_hash=hash_password(account.password),
        enterprise_name=facts.enterprise_name,
        uscc=ent.uscc,
        registered_capital=ent.registered_capital,
        founding_date=ent.founding_date,
        business_scope=ent.business_scope,
        industry=ent.industry,
        region=ent.region,
        legal_rep_name=facts.legal_rep_name,
        sealed_id_number=cipher.encrypt(facts.legal_rep_id_number, context=SEALED_ID_NUMBER),
        sealed_mobile=cipher.encrypt(rep.mobile, context=SEALED_MOBILE),
        email=body.email,
        secret_hash=registration_secret_digest(secret),
    )
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WorkflowType.ENTERPRISE_ONBOARDING,
        registration,
        id=enterprise_workflow_id(enterprise_id),
        task_queue=settings.task_queue(TaskQueue.PLATFORM),
        # The id is new: a retry of this very call joins its workflow, nothing else can.
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    try:
        ack: RegistrationAck = await temporal.execute_update_with_start_workflow(
            "registration", start_workflow_operation=start, result_type=RegistrationAck
        )
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    return ack, secret


async def _free_to_register(session: AsyncSession, uscc: str, username: str) -> None:
    """Refuse (409) a USCC a confirmed registration holds, and a username taken (saying so
    when it is the same registration again, which should correct and resubmit instead)."""
    # Only a registration whose legal representative was confirmed holds its USCC (issue
    # 28/3); others of the same USCC may run side by side, the first confirmed wins.
    if await session.get(UsccClaim, uscc) is not None:
        raise Refusal(
            409,
            "enterprise.duplicate",
            "该统一社会信用代码已注册",
            "This USCC is already registered",
            [
                issue(
                    "enterprise.uscc",
                    "uscc.already_registered",
                    "该统一社会信用代码已注册",
                    "This USCC is already registered",
                )
            ],
        )
    taken = await UserRepository(session).by_username(username)
    if taken is None:
        return
    own = (
        await EnterpriseRepository(session).get(taken.enterprise_id)
        if taken.enterprise_id
        else None
    )
    if own is not None and own.uscc == uscc and own.status in RESUBMITTABLE_STAGES:
        # The same registration again: not a dead end, its account corrects and resubmits.
        raise Refusal(
            409,
            "enterprise.resubmit_instead",
            "该统一社会信用代码已注册但认证未通过：请用注册时的账号登录，更正后重新提交认证",
            "This USCC is registered but its verification did not pass: log in with the "
            "registration's account, correct it and resubmit",
            [
                issue(
                    "enterprise.uscc",
                    "uscc.registration_not_verified",
                    "该代码的注册待更正后重新提交",
                    "This code's registration awaits correction and resubmission",
                )
            ],
        )
    raise Refusal(
        409,
        "user.username_taken",
        "用户名已被使用",
        "The username is taken",
        [issue("account.username", "username.taken", "用户名已被使用", "The username is taken")],
    )


async def _update(
    temporal: Client, enterprise_id: uuid.UUID, name: str, *args: object
) -> OnboardingProgress:
    return await run_update(
        temporal, enterprise_workflow_id(enterprise_id), name, *args, result_type=OnboardingProgress
    )


async def confirm_code(
    session: AsyncSession,
    temporal: Client,
    caller: Principal | None,
    enterprise_id: uuid.UUID,
    secret: str | None,
    code: str,
) -> OnboardingProgress:
    """Confirm the one-time code; the account becomes usable and documents are expected."""
    _, registrant = await registration(session, caller, enterprise_id, secret)
    await release_connection(session)
    confirm = ConfirmOtp(code=code, confirmed_by=registrant)
    return await _update(temporal, enterprise_id, "confirm_otp", confirm)


async def resend_code(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    caller: Principal | None,
    enterprise_id: uuid.UUID,
    secret: str | None,
    client_ip: str,
) -> OnboardingProgress:
    """Send a new code (at most 5, one a minute); the previous one stops working."""
    enterprise, registrant = await registration(session, caller, enterprise_id, secret)
    await _throttle(
        session,
        settings,
        client_ip,
        enterprise.mobile_hash,
        (RegistrationGuardRepository.CODE_SENT,),
    )
    await release_connection(session)
    resend = ResendOtp(requested_by=registrant)
    return await _update(temporal, enterprise_id, "resend_otp", resend)


async def progress(
    session: AsyncSession,
    temporal: Client,
    caller: Principal | None,
    enterprise_id: uuid.UUID,
    secret: str | None,
) -> OnboardingProgress:
    """Where the onboarding stands (no personal data), for its registrant."""
    await registration(session, caller, enterprise_id, secret)
    await release_connection(session)
    return await run_query(
        temporal, enterprise_workflow_id(enterprise_id), "progress", OnboardingProgress
    )


async def attach_document(
    temporal: Client, store: DocumentStore, user: Principal, kind: DocumentKind, data: bytes
) -> OnboardingProgress:
    """Store a verification material (PDF/JPEG/PNG by content, at most 10 MB: 413 or 415
    otherwise) and attach it to the enterprise's onboarding."""
    require_role(user, Role.APPLICANT)
    assert user.enterprise_id is not None
    problems = check_upload_rules(len(data), data[:16], "file")
    if problems:
        status = 413 if problems[0].code == "upload.too_large" else 415
        raise Refusal(
            status, problems[0].code, problems[0].message_zh, problems[0].message_en, problems
        )
    content_type = sniff_content_type(data[:16]) or "application/octet-stream"
    sha256 = store.put(data)
    attach = AttachDocument(
        kind=kind.value,
        sha256=sha256,
        content_type=content_type,
        size_bytes=len(data),
        attached_by=Registrant(user_id=user.user_id, role=user.role.value),
    )
    return await _update(temporal, user.enterprise_id, "attach_document", attach)


@dataclass(frozen=True, slots=True)
class OwnEnterprise:
    """The applicant's enterprise, and its legal representative's ID number and mobile as
    they may be shown (masked)."""

    enterprise: Enterprise
    legal_rep_id_number: str
    mobile: str


async def own_enterprise(session: AsyncSession, user: Principal) -> OwnEnterprise:
    """The applicant's enterprise with ID number and phone masked."""
    require_role(user, Role.APPLICANT)
    assert user.enterprise_id is not None
    enterprise = await EnterpriseRepository(session).get(user.enterprise_id)
    if enterprise is None:
        raise not_found()
    return OwnEnterprise(
        enterprise,
        mask_resident_id(enterprise.legal_rep_id_number),
        mask_mobile(enterprise.mobile),
    )


# The stage reads "rejected" as soon as the rejection is recorded; the run then still sends its
# notice and closes. A resubmission in that moment waits this long for the run to close.
RUN_CLOSING_S = 15.0


def _in_progress() -> Refusal:
    return Refusal(
        409,
        "onboarding.in_progress",
        "认证正在进行中，请等待结果",
        "The verification is in progress; wait for its outcome",
    )


async def _start_resubmission(
    temporal: Client, settings: Settings, registration: RegistrationInput, workflow_id: str
) -> WorkflowHandle[Any, Any]:
    """A new run of ``enterprise-{id}`` after a closed one (rejected, lapsed); an open run is
    refused — unless it is the rejected run closing, which is waited for first."""

    async def start() -> WorkflowHandle[Any, Any]:
        return await temporal.start_workflow(
            WorkflowType.ENTERPRISE_ONBOARDING,
            registration,
            id=workflow_id,
            task_queue=settings.task_queue(TaskQueue.PLATFORM),
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )

    try:
        return await start()
    except WorkflowAlreadyStartedError as exc:
        try:
            async with asyncio.timeout(RUN_CLOSING_S):
                await temporal.get_workflow_handle(workflow_id).result()
        except TimeoutError:
            raise _in_progress() from exc
        except (WorkflowFailureError, RPCError):
            pass  # closed, however it ended: start the new run
    try:
        return await start()
    except WorkflowAlreadyStartedError as exc:
        raise _in_progress() from exc


async def resubmit(
    session: AsyncSession,
    temporal: Client,
    settings: Settings,
    user: Principal,
    body: ResubmissionIn,
) -> OnboardingProgress:
    """Correct a rejected (or lapsed) registration and verify again: a new run of
    ``enterprise-{id}``. Documents on file still count unless named in ``reupload_documents``."""
    require_role(user, Role.APPLICANT)
    assert user.enterprise_id is not None
    enterprise = await EnterpriseRepository(session).get(user.enterprise_id)
    account = await session.get(AppUser, user.user_id)
    if enterprise is None or account is None:
        raise not_found()
    holder = await session.scalar(
        select(UsccClaim.enterprise_id).where(UsccClaim.uscc == enterprise.uscc)
    )
    if holder is not None and holder != enterprise.id:
        raise Refusal(
            409,
            "enterprise.duplicate",
            "该统一社会信用代码已由另一注册通过核验，请联系平台客服",
            "Another registration of this USCC was confirmed; contact platform support",
        )
    if enterprise.status not in RESUBMITTABLE_STAGES:
        stage_zh = label(Vocabulary.ENTERPRISE_STATUS, enterprise.status, "zh")
        stage_en = label(Vocabulary.ENTERPRISE_STATUS, enterprise.status, "en")
        raise Refusal(
            409,
            "onboarding.not_resubmittable",
            f"认证状态为“{stage_zh}”，不能重新提交；仅未通过或已过期的认证可以重新提交",
            f"An onboarding that is “{stage_en}” cannot be resubmitted; only a rejected or "
            "lapsed one can",
        )
    ent, rep = body.enterprise, body.legal_representative
    name = ent.name.strip() if ent.name is not None else enterprise.name
    rep_name = rep.name.strip() if rep.name is not None else enterprise.legal_rep_name
    id_number = (
        normalize_resident_id(rep.id_number)
        if rep.id_number is not None
        else enterprise.legal_rep_id_number
    )
    problems = []
    if rep.id_number is not None:
        problems += validate_resident_id(
            id_number, business_today(), field_name="legal_representative.id_number"
        )
    for field, value in (("enterprise.name", name), ("legal_representative.name", rep_name)):
        if len(value) < 2:
            problems.append(
                issue(field, "name.too_short", "名称至少 2 个字", "At least 2 characters")
            )
    if problems:
        raise BusinessRuleError(problems)
    corrected = [
        field
        for field, changed in (
            ("enterprise.name", name != enterprise.name),
            ("legal_representative.name", rep_name != enterprise.legal_rep_name),
            ("legal_representative.id_number", id_number != enterprise.legal_rep_id_number),
        )
        if changed
    ]
    workflow_id = enterprise_workflow_id(enterprise.id)
    earlier = await session.scalar(
        select(func.count())
        .select_from(DecisionLogEntry)
        .where(
            DecisionLogEntry.subject == workflow_id,
            DecisionLogEntry.kind == "onboarding.resubmitted",
        )
    )
    cipher = FieldCipher.from_settings(settings)
    registration = RegistrationInput(
        enterprise_id=enterprise.id,
        user_id=account.id,
        username=account.username,
        password_hash="",  # the account exists; no password travels again
        enterprise_name=name,
        uscc=enterprise.uscc,
        registered_capital=enterprise.registered_capital,
        founding_date=enterprise.founding_date,
        business_scope=enterprise.business_scope,
        industry=enterprise.industry,
        region=enterprise.region,
        legal_rep_name=rep_name,
        sealed_id_number=cipher.encrypt(id_number, context=SEALED_ID_NUMBER),
        sealed_mobile=cipher.encrypt(enterprise.mobile, context=SEALED_MOBILE),
        email=enterprise.email,
        resubmission=Resubmission(
            round=(earlier or 0) + 1,
            requested_by=user.user_id,
            requested_role=user.role.value,
            corrected=corrected,
            reupload=sorted({kind.value for kind in body.reupload_documents}),
        ),
    )
    await release_connection(session)
    handle = await _start_resubmission(temporal, settings, registration, workflow_id)
    try:
        await handle.execute_update("registration", result_type=RegistrationAck)
        progress: OnboardingProgress = await handle.query(
            "progress", result_type=OnboardingProgress
        )
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    return progress
