"""Calling workflows from a service: Updates and queries, with refusals turned into service
refusals."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateHandle,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import issue
from services.errors import Refusal

T = TypeVar("T")


async def settle_start(start: WithStartWorkflowOperation[Any, Any]) -> None:
    """After an update-with-start refused because the workflow exists (and closed), read the
    start operation's outcome too: left unread, asyncio logs "Future exception was never
    retrieved: WorkflowAlreadyStartedError" for every repeated submission."""
    with contextlib.suppress(Exception):
        await start.workflow_handle()


# ApplicationError type → HTTP status, Chinese and English message.
REFUSALS: dict[str, tuple[int, str, str]] = {
    "DuplicateEnterprise": (409, "该统一社会信用代码已注册", "This USCC is already registered"),
    "DuplicateUsername": (409, "用户名已被使用", "The username is taken"),
    "mobile.refused": (
        422,
        "短信网关拒收该手机号（停机、拦截或非有效号码），请换一个能接收短信的手机号后重新注册",
        "The SMS gateway refuses this mobile (blocked or not a valid recipient); register again "
        "with a mobile that receives text messages",
    ),
    "registration.expired": (
        410,
        "注册未在验证码有效期内确认，已失效，请重新注册",
        "The registration was not confirmed while its code was valid and has expired; "
        "register again",
    ),
    "otp.not_awaited": (409, "当前无需验证码", "No one-time code is awaited now"),
    "otp.bad_format": (422, "验证码为 6 位数字", "The code has 6 digits"),
    "otp.expired": (410, "验证码已过期，请重新获取", "The code has expired; ask for a new one"),
    "otp.too_many_attempts": (
        429,
        "验证码错误次数过多，请重新获取",
        "Too many wrong codes; ask for a new one",
    ),
    "otp.wrong_code": (422, "验证码错误", "The code is wrong"),
    "otp.too_many_sends": (429, "验证码发送次数已达上限", "No more codes can be sent"),
    "otp.too_soon": (429, "请稍后再获取验证码", "Wait a minute before asking for another code"),
    "onboarding.not_resubmittable": (
        409,
        "仅未通过或已过期的认证可以重新提交",
        "Only a rejected or lapsed onboarding can be resubmitted",
    ),
    "onboarding.resubmission_conflict": (
        409,
        "该认证刚刚已重新提交，请刷新查看进度",
        "This onboarding was just resubmitted; refresh to see its progress",
    ),
    "documents.not_expected": (409, "当前阶段无需上传材料", "Documents are not expected now"),
    "documents.unknown_kind": (422, "材料类型不正确", "Unknown document kind"),
    "review.not_pending": (409, "没有待审核的事项", "Nothing awaits review"),
    "review.already_decided": (409, "该任务已处理", "The task is already decided"),
    "review.wrong_task": (409, "任务与当前审核不符", "This task is not the open review"),
    "review.role_not_allowed": (403, "当前角色无权审核", "Your role may not decide this review"),
    "review.reason_required": (422, "拒绝时必须填写原因", "A rejection needs a reason"),
    "demand.closed": (409, "该融资需求已结束", "The demand is closed"),
    "demand.not_published": (403, "该需求未推送给贵机构", "The demand was not sent to you"),
    "demand.already_answered": (
        409,
        "贵机构已回复或已超时，不能再次回复；如需调整条件，请在企业申请时的审批中给出",
        "You have answered (or the time to answer lapsed); to change your terms, set them when"
        " you decide the enterprise's application",
    ),
    "demand.role_not_allowed": (403, "仅机构员工可以回复", "Only institution staff answer"),
    "demand.reason_required": (422, "婉拒时必须填写原因", "A decline needs a reason"),
    "demand.bad_indicative_rate": (
        422,
        "意向年利率须在 0 至 24% 之间",
        "An indicative annual rate in (0, 24 %] is required",
    ),
    "demand.institution_declined": (409, "该机构已婉拒此需求", "The institution declined"),
    "credit.not_pending": (409, "没有待审批的事项", "Nothing awaits a credit decision"),
    "credit.wrong_institution": (
        403,
        "该申请不属于贵机构",
        "The case belongs to another institution",
    ),
    "credit.beyond_authority": (
        403,
        "超出您的审批权限，须由有相应权限的主管决定",
        "This is beyond your authority: a supervisor with the authority decides it",
    ),
    "credit.same_approver": (
        409,
        "双人审批需由另一位主管批准",
        "Four eyes: a different supervisor must approve",
    ),
    "credit.reason_required": (422, "拒绝时必须填写原因", "A decline needs a reason"),
    "credit.bad_amount": (422, "批准金额须在申请金额以内", "The amount must be within the request"),
    "credit.bad_rate": (422, "年利率须在 0 至 24% 之间", "An annual rate in (0, 24 %] is required"),
    "offer.not_pending": (409, "没有待确认的报价", "No offer awaits acceptance"),
    "offer.expired": (410, "报价已过期", "The offer has expired"),
    "offer.name_required": (422, "请输入姓名以确认", "Type your name to accept"),
    "application.closed": (409, "申请已无法撤回", "Too late to withdraw"),
    "credit.maker_checker": (
        403,
        "经办人不能审批自己经办的业务",
        "Maker-checker: the officer who prepared the case cannot decide it",
    ),
    "credit.question_required": (422, "请填写要询问申请人的问题", "Ask a question"),
    "credit.too_many_questions": (409, "补充信息次数已达上限，请作出决定", "Decide now"),
    "credit.terms_differ": (
        409,
        "第二位审批人只能确认第一位的条件，或拒绝",
        "The second approval confirms the first's terms",
    ),
    "credit.counter_offer_unchanged": (
        422,
        "调整方案须改变金额、期限或利率",
        "A counter-offer changes the amount, the term or the rate",
    ),
    "credit.amount_below_product": (422, "金额低于产品下限", "Below the product's minimum"),
    "credit.term_outside_product": (422, "期限超出产品范围", "The term is outside the product"),
    "credit.rate_outside_product": (422, "利率超出产品范围", "The rate is outside the product"),
    "loan.opening": (
        409,
        "贷款账户正在开立，请稍后再试",
        "The loan account is being opened; try again shortly",
    ),
    "loan.not_active": (
        409,
        "该贷款已结清、已核销或未放款，无需再还款或展期",
        "The loan is paid off, written off or was never disbursed: there is nothing to pay or "
        "extend",
    ),
    "payment.refused": (
        409,
        "银行未能扣款，请核对还款账户的状态与余额后重试",
        "The bank refused the payment; check the paying account's status and balance, then "
        "try again",
    ),
    "payment.exceeds_payoff": (
        409,
        "还款金额超过结清所需金额，请改为提前结清",
        "More than it takes to settle the loan: pay it off instead",
    ),
    "extension.pending": (
        409,
        "已有展期申请待审批，请等待贷款机构的决定",
        "An extension request already awaits the lender's decision; wait for it",
    ),
    "extension.reason_required": (422, "请说明展期原因", "Give the reason for the extension"),
    "extension.not_pending": (
        409,
        "没有待审批的展期申请",
        "No extension request awaits a decision",
    ),
    "loan.not_written_off_category": (
        409,
        "仅可疑类或损失类贷款可以核销",
        "Only a doubtful or loss loan can be written off",
    ),
    "information.not_requested": (409, "当前无需补充信息", "Nothing is asked of you now"),
    "information.still_missing": (422, "请提交所缺材料", "Provide the missing materials"),
    "information.answer_required": (422, "请填写回复或上传材料", "Write an answer"),
    "information.too_long": (422, "回复不超过 2000 字", "At most 2000 characters"),
    "application.unknown_material": (422, "未知的材料类型", "Unknown material kind"),
    "offer.document_mismatch": (
        409,
        "您确认的要约文件与签发的不一致，请重新下载",
        "The offer letter you accept is not the one issued; download it again",
    ),
    "offer.reason_too_long": (422, "原因不超过 500 字", "At most 500 characters"),
    "signer.name_mismatch": (
        422,
        "签署人姓名与登记的法定代表人不一致，须由法定代表人本人签署",
        "The signer's name is not the registered legal representative's: the legal "
        "representative signs",
    ),
    "signer.code_missing": (
        422,
        "请先获取签约验证码，并填写法定代表人手机收到的 6 位验证码",
        "Ask for a signing code first and enter the 6 digits texted to the legal "
        "representative's mobile",
    ),
    "signer.code_wrong": (422, "签约验证码错误", "The signing code is wrong"),
    "signer.code_expired": (
        410,
        "签约验证码已过期，请重新获取",
        "The signing code has expired; ask for a new one",
    ),
    "signer.code_void": (
        429,
        "签约验证码错误次数过多已作废，请重新获取",
        "Too many wrong codes: this one is void; ask for a new one",
    ),
    "signer.document_changed": (
        409,
        "验证码所签署的要约函已更新，请重新获取验证码",
        "The offer letter changed since the code was sent; ask for a new code",
    ),
    "signer.too_many_codes": (
        429,
        "该要约获取签约验证码的次数已达上限",
        "No more signing codes can be sent for this offer",
    ),
    "signer.code_not_sent": (
        503,
        "签约验证码暂时无法发送，请稍后重试",
        "The signing code could not be sent; try again later",
    ),
    "application.already_open": (
        409,
        "该企业已有同一产品、同一用途的申请正在办理，请跟进该申请（见 details.application_id）",
        "An application of this enterprise for the same product and purpose is open: follow "
        "that one (details.application_id)",
    ),
    "demand.empty_selection": (422, "请至少选择一个产品", "Choose at least one product"),
    "demand.product_not_matched": (
        422,
        "只能选择匹配成功的产品",
        "Only matched products can be chosen",
    ),
}


# Refusals that are about one field of the form: the field-level issue the envelope carries.
REFUSAL_FIELDS: dict[str, tuple[str, str, str]] = {
    "mobile.refused": (
        "legal_representative.mobile",
        "该手机号无法接收短信",
        "This mobile cannot receive text messages",
    ),
    "DuplicateEnterprise": (
        "enterprise.uscc",
        "该统一社会信用代码已注册",
        "This USCC is already registered",
    ),
    "DuplicateUsername": ("account.username", "用户名已被使用", "The username is taken"),
    "signer.name_mismatch": (
        "signer_name",
        "与登记的法定代表人姓名不一致",
        "Not the registered legal representative's name",
    ),
    "signer.code_missing": ("code", "请填写短信验证码", "Enter the code texted"),
    "signer.code_wrong": ("code", "验证码错误", "The code is wrong"),
    "signer.code_expired": ("code", "验证码已过期", "The code has expired"),
    "signer.code_void": ("code", "验证码已作废，请重新获取", "The code is void; ask again"),
    "signer.document_changed": (
        "code",
        "验证码对应的要约函已更新",
        "The code was sent for another letter",
    ),
}


# Refusals whose first detail names a record the caller acts on: the key it goes under in the
# envelope's ``details``.
REFUSAL_DETAILS: dict[str, str] = {
    "application.already_open": "application_id",
    "signer.code_wrong": "attempts_left",
}


def refusal_from_workflow(exc: Exception) -> Refusal:
    """The Refusal for a refused Update or a missing workflow; re-raise anything else."""
    if isinstance(exc, WorkflowUpdateFailedError):
        cause: BaseException | None = exc.cause
        while cause is not None and not isinstance(cause, ApplicationError):
            cause = cause.__cause__
        if isinstance(cause, ApplicationError) and cause.type in REFUSALS:
            status, zh, en = REFUSALS[cause.type]
            field = REFUSAL_FIELDS.get(cause.type)
            fields = [issue(field[0], cause.type, field[1], field[2])] if field else []
            name = REFUSAL_DETAILS.get(cause.type)
            facts = {name: str(cause.details[0])} if name and cause.details else None
            return Refusal(status, cause.type, zh, en, fields, details=facts)
        if isinstance(cause, ApplicationError) and cause.type and "." in cause.type:
            # A business refusal without its own entry: its code, the workflow's message and
            # the Chinese one when the refusal carries it as its first detail.
            details = cause.details
            zh = details[0] if details and isinstance(details[0], str) else "操作被业务规则拒绝"
            return Refusal(409, cause.type, zh, cause.message)
    if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
        if "completed" in exc.message.lower():
            # The record was found (and its tenant checked): its process is over, a conflict.
            return Refusal(409, "process.finished", "该流程已结束", "The process has finished")
        return Refusal(404, "not_found", "流程不存在或已结束", "No such running process")
    raise exc


def refusal(code: str, detail: object = None) -> Refusal:
    """The Refusal of one of the REFUSALS (``detail``: the record it names, REFUSAL_DETAILS)."""
    status, zh, en = REFUSALS[code]
    name = REFUSAL_DETAILS.get(code)
    details = {name: str(detail)} if name and detail is not None else None
    return Refusal(status, code, zh, en, details=details)


async def run_update(
    temporal: Client,
    workflow_id: str,
    name: str,
    *args: object,
    result_type: type[T],
    update_id: str | None = None,
    ended: Refusal | None = None,
) -> T:
    """Execute a workflow Update; refusals come back as Refusals. ``ended`` is the refusal
    when the workflow has ended already (what became of its record), else ``process.finished``
    says so."""
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        result: T = await handle.execute_update(
            name, args=list(args), id=update_id, result_type=result_type
        )
    except Exception as exc:
        raise await _refusal_of(handle, exc, ended) from exc
    return result


def _refused(exc: Exception, ended: Refusal | None) -> Refusal:
    """An Update's refusal; ``ended`` in place of ``process.finished`` when given."""
    error = refusal_from_workflow(exc)
    return ended if ended is not None and error.code == "process.finished" else error


async def _refusal_of(
    handle: WorkflowHandle[Any, Any], exc: Exception, ended: Refusal | None
) -> Refusal:
    """An Update's refusal. An Update that raced its workflow's end (the workflow completed
    while the Update was on its way or running: the server's answer is no refusal of ours)
    says where the process ended instead of failing as an unexpected error."""
    try:
        return _refused(exc, ended)
    except Exception:
        try:
            running = (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        except RPCError:
            running = True
        if running:
            raise
        return ended or Refusal(409, "process.finished", "该流程已结束", "The process has finished")


async def run_update_within(
    temporal: Client,
    workflow_id: str,
    name: str,
    arg: object,
    *,
    result_type: type[T],
    update_id: str,
    wait_s: float,
    ended: Refusal | None = None,
) -> T | None:
    """Execute a workflow Update, waiting at most ``wait_s`` real seconds for its outcome once
    the workflow has accepted it: the outcome, a Refusal (the validator's or the handler's),
    or None while it is still running (a payment waiting for a bank that cannot be reached).
    The Update goes on; ``update_outcome`` reads it later by ``update_id``."""
    handle = temporal.get_workflow_handle(workflow_id)
    try:
        update = await handle.start_update(
            name,
            arg,
            id=update_id,
            wait_for_stage=WorkflowUpdateStage.ACCEPTED,
            result_type=result_type,
        )
    except Exception as exc:
        raise await _refusal_of(handle, exc, ended) from exc
    return await _outcome_within(update, wait_s)


async def update_outcome(
    temporal: Client, workflow_id: str, update_id: str, result_type: type[T], wait_s: float
) -> T | None:
    """The outcome of an Update started before (``run_update_within``): its result, its
    Refusal, None while it runs; 404 when the workflow's current run has no such Update."""
    update = temporal.get_workflow_handle(workflow_id).get_update_handle(
        update_id, result_type=result_type
    )
    return await _outcome_within(update, wait_s)


async def _outcome_within(update: WorkflowUpdateHandle[T], wait_s: float) -> T | None:
    # The poll runs as a task the deadline leaves behind (cancelled, its error dropped): a
    # cancelled Temporal call turns into the client's own error, which must not escape here.
    polling = asyncio.ensure_future(update.result())
    done, _ = await asyncio.wait({polling}, timeout=wait_s)
    if not done:
        polling.cancel()
        polling.add_done_callback(lambda task: task.cancelled() or task.exception())
        return None
    try:
        result: T = polling.result()
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    return result


async def run_query(temporal: Client, workflow_id: str, name: str, result_type: type[T]) -> T:
    """Ask a workflow a query; a missing workflow is a 404."""
    try:
        result: T = await temporal.get_workflow_handle(workflow_id).query(
            name, result_type=result_type
        )
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    return result


async def submit_once(
    temporal: Client, start: WithStartWorkflowOperation[Any, Any], update: str, result_type: type[T]
) -> T | None:
    """Start a workflow (or find it under its id) with an Update that answers once what was
    submitted is recorded; the same id after the workflow closed finds it closed, and is let
    be (what it recorded exists already); refusals come back as Refusals. The Update's answer,
    or None for a workflow found closed."""
    try:
        result: T = await temporal.execute_update_with_start_workflow(
            update, start_workflow_operation=start, result_type=result_type
        )
    except WorkflowAlreadyStartedError:
        await settle_start(start)
        return None
    except Exception as exc:
        raise refusal_from_workflow(exc) from exc
    return result
