"""Typed Python client for the LoanBridge HTTP API (httpx), used by the CLI, the demo and tests."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel

from api.schemas import (
    AcceptanceOut,
    ApplicationOut,
    DemandDetail,
    DemandOut,
    EnterpriseOut,
    HealthOut,
    InstitutionOut,
    LoanOut,
    MaterialOut,
    NotificationOut,
    NotificationPageOut,
    PayoffQuoteOut,
    PolicyOut,
    ProductOut,
    ProgressOut,
    QuoteOut,
    ReadAllOut,
    RegistrationOut,
    ScheduleOut,
    TaskOut,
    TokenPair,
    TransactionOut,
    UserOut,
)
from workflows.contracts import (
    AcceptanceCodeSent,
    ApplicationProgress,
    DemandProgress,
    LoanProgress,
)

REGISTRATION_SECRET_HEADER = "X-Registration-Secret"
REPLAYED_HEADER = "Idempotent-Replayed"  # the API's mark on the answer to a repeat

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """The answer to a command that happens once (per idempotency key, or per offer): its
    result, and whether it had been done before and this is the first result again."""

    result: T
    already_done: bool = False


def _answered(model: type[M], response: httpx.Response) -> Outcome[M]:
    """A once-only command's answer, and whether the API says it was a repeat."""
    return Outcome(
        model.model_validate(response.json()),
        already_done=response.headers.get(REPLAYED_HEADER, "").lower() == "true",
    )


@dataclass
class FieldError:
    """One field-level problem reported by the API."""

    field: str
    code: str
    message_zh: str
    message_en: str


class LoanBridgeError(Exception):
    """The API refused a request; carries its machine code, bilingual message and field issues."""

    def __init__(
        self,
        status: int,
        code: str,
        message_zh: str,
        message_en: str,
        fields: list[FieldError],
        details: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message_en}")
        self.status, self.code = status, code
        self.message_zh, self.message_en = message_zh, message_en
        self.fields = fields
        # Facts to act on, e.g. ``application_id`` of the open application a duplicate names.
        self.details = details or {}


@dataclass
class LoanBridgeClient:
    """Synchronous client; tokens are kept (never shown by its repr) and refreshed once on
    expiry. Every answer is a typed model."""

    base_url: str
    access_token: str | None = None
    refresh_token: str | None = None
    timeout_s: float = 30.0
    payment_follow_s: float = 120.0  # how long a payment the bank has not answered is followed
    transport: httpx.BaseTransport | None = None
    # Registration secrets by enterprise id, kept from register() and sent by themselves on
    # that registration's calls (the API shows a secret only once).
    registration_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    _http: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # Idle connections are dropped after 2 s, before the server's 5 s keep-alive closes
        # them under a request ("Server disconnected without sending a response").
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"),
            timeout=self.timeout_s,
            transport=self.transport,
            limits=httpx.Limits(keepalive_expiry=2.0),
        )

    def __repr__(self) -> str:
        # A REPL shows this: whether there is a session, never the tokens themselves.
        return (
            f"LoanBridgeClient(base_url={self.base_url!r}, "
            f"logged_in={self.access_token is not None})"
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LoanBridgeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ---- plumbing ------------------------------------------------------------------
    def _send(
        self, method: str, path: str, *, retry_auth: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One authenticated request (refreshing the tokens once on 401); errors raised."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        response = self._http.request(method, path, headers=headers, **kwargs)
        if response.status_code == 401 and retry_auth and self.refresh_token:
            try:
                self.refresh()
            except LoanBridgeError:
                pass
            else:
                return self._send(method, path, retry_auth=False, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    def _request(self, method: str, path: str, *, retry_auth: bool = True, **kwargs: Any) -> Any:
        response = self._send(method, path, retry_auth=retry_auth, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def _model(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        """One request whose answer is one ``model``."""
        return model.model_validate(self._request(method, path, **kwargs))

    def _models(self, model: type[M], method: str, path: str, **kwargs: Any) -> list[M]:
        """One request whose answer is a list of ``model``."""
        return [model.model_validate(row) for row in self._request(method, path, **kwargs)]

    def _outcome(self, model: type[M], method: str, path: str, **kwargs: Any) -> Outcome[M]:
        """A command that happens once: its answer, and whether the API says it was a repeat."""
        return _answered(model, self._send(method, path, **kwargs))

    def _document(self, path: str) -> Document:
        """Download a PDF; its SHA-256 is computed from the bytes received and, when the API
        declares one (X-Document-SHA256), the two must agree."""
        response = self._send("GET", path)
        content = response.content
        digest = hashlib.sha256(content).hexdigest()
        declared = response.headers.get("X-Document-SHA256")
        if declared is not None and declared.strip().lower() != digest:
            raise LoanBridgeError(
                response.status_code,
                "document.hash_mismatch",
                "下载的文件与其声明的 SHA-256 不符，请重新下载",
                f"the downloaded file does not match its declared SHA-256 ({declared}); "
                "download it again",
                [],
            )
        offer = (response.headers.get("X-Offer-SHA256") or "").strip().lower() or None
        return Document(
            content=content, sha256=digest, declared_sha256=declared, offer_sha256=offer
        )

    # ---- health --------------------------------------------------------------------
    def healthz(self) -> HealthOut:
        return HealthOut.model_validate(self._request("GET", "/healthz"))

    def readyz(self) -> HealthOut:
        return HealthOut.model_validate(self._request("GET", "/readyz"))

    # ---- auth ----------------------------------------------------------------------
    def login(self, username: str, password: str) -> TokenPair:
        pair = TokenPair.model_validate(
            self._request(
                "POST",
                "/api/v1/auth/token",
                retry_auth=False,
                json={"username": username, "password": password},
            )
        )
        self.access_token, self.refresh_token = pair.access_token, pair.refresh_token
        return pair

    def refresh(self) -> TokenPair:
        """Rotate the refresh token (the old one stops working)."""
        response = self._http.post(
            "/api/v1/auth/refresh", json={"refresh_token": self.refresh_token}
        )
        if response.status_code >= 400:
            raise _error_from(response)
        pair = TokenPair.model_validate(response.json())
        self.access_token, self.refresh_token = pair.access_token, pair.refresh_token
        return pair

    def logout(self) -> None:
        self._request("POST", "/api/v1/auth/logout")
        self.access_token = self.refresh_token = None

    def me(self) -> UserOut:
        return UserOut.model_validate(self._request("GET", "/api/v1/auth/me"))

    # ---- users and institutions ----------------------------------------------------
    def create_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        display_name: str = "",
        institution_id: uuid.UUID | None = None,
    ) -> UserOut:
        body = {
            "username": username,
            "password": password,
            "role": role,
            "display_name": display_name,
            "institution_id": str(institution_id) if institution_id else None,
        }
        return UserOut.model_validate(self._request("POST", "/api/v1/users", json=body))

    def onboard_institution(self, code: str, name: str, kind: str = "bank") -> InstitutionOut:
        body = {"code": code, "name": name, "kind": kind}
        return InstitutionOut.model_validate(
            self._request("POST", "/api/v1/institutions", json=body)
        )

    def list_institutions(self, limit: int = 50, offset: int = 0) -> list[InstitutionOut]:
        rows = self._request(
            "GET", "/api/v1/institutions", params={"limit": limit, "offset": offset}
        )
        return [InstitutionOut.model_validate(r) for r in rows]

    def get_institution(self, institution_id: uuid.UUID) -> InstitutionOut:
        return InstitutionOut.model_validate(
            self._request("GET", f"/api/v1/institutions/{institution_id}")
        )

    # ---- onboarding ----------------------------------------------------------------
    def register(self, registration: dict[str, Any]) -> RegistrationOut:
        """Register an enterprise (see RegistrationIn); answers the ack with the masked mobile.

        The registration secret of the answer is kept: ``confirm_code``, ``resend_code`` and
        ``registration_progress`` of this registration send it themselves."""
        ack = self._model(RegistrationOut, "POST", "/api/v1/registrations", json=registration)
        self.registration_secrets[str(ack.enterprise_id)] = ack.registration_secret
        return ack

    def _registration_headers(self, enterprise_id: str | uuid.UUID) -> dict[str, str]:
        secret = self.registration_secrets.get(str(enterprise_id))
        return {REGISTRATION_SECRET_HEADER: secret} if secret else {}

    def confirm_code(self, enterprise_id: str | uuid.UUID, code: str) -> ProgressOut:
        return self._model(
            ProgressOut,
            "POST",
            f"/api/v1/registrations/{enterprise_id}/otp",
            json={"code": code},
            headers=self._registration_headers(enterprise_id),
        )

    def resend_code(self, enterprise_id: str | uuid.UUID) -> ProgressOut:
        return self._model(
            ProgressOut,
            "POST",
            f"/api/v1/registrations/{enterprise_id}/otp/resend",
            headers=self._registration_headers(enterprise_id),
        )

    def registration_progress(self, enterprise_id: str | uuid.UUID) -> ProgressOut:
        """Where a registration stands: with its kept secret, or as the enterprise's account."""
        return self._model(
            ProgressOut,
            "GET",
            f"/api/v1/registrations/{enterprise_id}",
            headers=self._registration_headers(enterprise_id),
        )

    def upload_document(self, kind: str, filename: str, content: bytes) -> ProgressOut:
        return self._model(
            ProgressOut,
            "POST",
            "/api/v1/enterprises/me/documents",
            data={"kind": kind},
            files={"file": (filename, content)},
        )

    def my_enterprise(self) -> EnterpriseOut:
        return self._model(EnterpriseOut, "GET", "/api/v1/enterprises/me")

    def resubmit_registration(
        self,
        *,
        enterprise_name: str | None = None,
        legal_rep_name: str | None = None,
        id_number: str | None = None,
        reupload_documents: Sequence[str] = (),
    ) -> ProgressOut:
        """Correct a rejected (or lapsed) registration and verify again; only the facts given
        change. Documents on file still count unless named in ``reupload_documents``."""
        representative: dict[str, str] = {}
        if legal_rep_name is not None:
            representative["name"] = legal_rep_name
        if id_number is not None:
            representative["id_number"] = id_number
        body: dict[str, Any] = {
            "enterprise": {"name": enterprise_name} if enterprise_name is not None else {},
            "legal_representative": representative,
            "reupload_documents": list(reupload_documents),
        }
        return self._model(ProgressOut, "POST", "/api/v1/enterprises/me/resubmission", json=body)

    # ---- tasks ---------------------------------------------------------------------
    def list_tasks(self, state: str = "open", kind: str | None = None) -> list[TaskOut]:
        params = {"state": state, **({"kind": kind} if kind else {})}
        return self._models(TaskOut, "GET", "/api/v1/tasks", params=params)

    def decide_task(
        self,
        task_id: str | uuid.UUID,
        approve: bool,
        reason: str = "",
        *,
        action: str | None = None,
        question: str = "",
        amount: Decimal | None = None,
        rate: Decimal | None = None,
        term_months: int | None = None,
    ) -> TaskOut:
        """Approve/reject, or (credit tasks) an ``action``: approve, decline, request_info with
        a ``question``, counter_offer with new ``amount``/``rate``/``term_months``."""
        body: dict[str, Any] = {"approve": approve, "reason": reason}
        if action is not None:
            body["action"] = action
        if question:
            body["question"] = question
        if amount is not None:
            body["amount"] = str(amount)
        if rate is not None:
            body["rate"] = str(rate)
        if term_months is not None:
            body["term_months"] = term_months
        return self._model(TaskOut, "POST", f"/api/v1/tasks/{task_id}/decision", json=body)

    def claim_task(self, task_id: str | uuid.UUID) -> TaskOut:
        return self._model(TaskOut, "POST", f"/api/v1/tasks/{task_id}/claim")

    # ---- demands, comparison, products ---------------------------------------------
    def post_demand(
        self, demand: dict[str, Any], idempotency_key: str | None = None
    ) -> Outcome[DemandOut]:
        """Post a demand; a repeated idempotency key posts once (``already_done``)."""
        return self._outcome(
            DemandOut, "POST", "/api/v1/demands", json=demand, headers=_idempotency(idempotency_key)
        )

    def demand(self, demand_id: str | uuid.UUID) -> DemandDetail:
        return self._model(DemandDetail, "GET", f"/api/v1/demands/{demand_id}")

    def demand_progress(self, demand_id: str | uuid.UUID) -> DemandProgress:
        return self._model(DemandProgress, "GET", f"/api/v1/demands/{demand_id}/progress")

    def withdraw_demand(self, demand_id: str | uuid.UUID) -> DemandProgress:
        return self._model(DemandProgress, "POST", f"/api/v1/demands/{demand_id}/withdraw")

    def answer_demand(self, demand_id: str | uuid.UUID, answer: dict[str, Any]) -> DemandProgress:
        return self._model(
            DemandProgress, "POST", f"/api/v1/demands/{demand_id}/responses", json=answer
        )

    def compare(self, demand_id: str | uuid.UUID) -> list[QuoteOut]:
        return self._models(QuoteOut, "GET", f"/api/v1/demands/{demand_id}/comparison")

    def comparison_pdf(self, demand_id: str | uuid.UUID) -> bytes:
        return self._send("GET", f"/api/v1/demands/{demand_id}/comparison.pdf").content

    def select_products(self, demand_id: str | uuid.UUID, product_ids: list[str]) -> DemandProgress:
        return self._model(
            DemandProgress,
            "POST",
            f"/api/v1/demands/{demand_id}/selection",
            json={"product_ids": product_ids},
        )

    def publish_product(self, product: dict[str, Any]) -> ProductOut:
        return self._model(ProductOut, "POST", "/api/v1/products", json=product)

    def list_products(self, institution_id: str | uuid.UUID | None = None) -> list[ProductOut]:
        """The active products (at most 200), with their lender's name and APR disclosure."""
        params: dict[str, Any] = {"limit": 200}
        if institution_id is not None:
            params["institution_id"] = str(institution_id)
        return self._models(ProductOut, "GET", "/api/v1/products", params=params)

    def list_policies(self) -> list[PolicyOut]:
        return self._models(PolicyOut, "GET", "/api/v1/policies")

    def publish_policy(self, policy: dict[str, Any]) -> PolicyOut:
        return self._model(PolicyOut, "POST", "/api/v1/policies", json=policy)

    # ---- applications --------------------------------------------------------------
    def submit_application(
        self, application: dict[str, Any], idempotency_key: str | None = None
    ) -> Outcome[ApplicationOut]:
        """Apply; a repeated idempotency key applies once (``already_done``)."""
        return self._outcome(
            ApplicationOut,
            "POST",
            "/api/v1/applications",
            json=application,
            headers=_idempotency(idempotency_key),
        )

    def list_applications(self, limit: int = 50, offset: int = 0) -> list[ApplicationOut]:
        """Your applications (staff: your institution's), newest first, with names."""
        params = {"limit": limit, "offset": offset}
        return self._models(ApplicationOut, "GET", "/api/v1/applications", params=params)

    def list_notifications(self, limit: int = 20, offset: int = 0) -> NotificationPageOut:
        """Your enterprise's notices, newest first, with the unread count."""
        params = {"limit": limit, "offset": offset}
        return self._model(NotificationPageOut, "GET", "/api/v1/notifications", params=params)

    def mark_notification_read(self, notification_id: str | uuid.UUID) -> NotificationOut:
        path = f"/api/v1/notifications/{notification_id}/read"
        return self._model(NotificationOut, "POST", path)

    def mark_all_notifications_read(self) -> ReadAllOut:
        return self._model(ReadAllOut, "POST", "/api/v1/notifications/read-all")

    def application(self, application_id: str | uuid.UUID) -> ApplicationOut:
        return self._model(ApplicationOut, "GET", f"/api/v1/applications/{application_id}")

    def application_progress(self, application_id: str | uuid.UUID) -> ApplicationProgress:
        return self._model(
            ApplicationProgress, "GET", f"/api/v1/applications/{application_id}/progress"
        )

    # ---- material files --------------------------------------------------------------
    def upload_material(
        self,
        kind: str,
        filename: str,
        content: bytes,
        *,
        application_id: str | uuid.UUID | None = None,
        demand_id: str | uuid.UUID | None = None,
    ) -> MaterialOut:
        """Upload a material file (PDF/JPEG/PNG/XLSX/CSV): to an application, to a demand, or
        (neither) ahead of the application it goes with, whose ``material_ids`` then name it."""
        if application_id is not None and demand_id is not None:
            raise ValueError("attach a material to an application or a demand, not both")
        path = "/api/v1/materials"
        if application_id is not None:
            path = f"/api/v1/applications/{application_id}/materials"
        elif demand_id is not None:
            path = f"/api/v1/demands/{demand_id}/materials"
        return self._model(
            MaterialOut, "POST", path, data={"kind": kind}, files={"file": (filename, content)}
        )

    def staged_materials(self) -> list[MaterialOut]:
        """Your materials uploaded ahead and not yet attached."""
        return self._models(MaterialOut, "GET", "/api/v1/materials")

    def application_materials(self, application_id: str | uuid.UUID) -> list[MaterialOut]:
        """The files of an application (and of the demand it answers)."""
        return self._models(MaterialOut, "GET", f"/api/v1/applications/{application_id}/materials")

    def demand_materials(self, demand_id: str | uuid.UUID) -> list[MaterialOut]:
        return self._models(MaterialOut, "GET", f"/api/v1/demands/{demand_id}/materials")

    def download_material(self, material_id: str | uuid.UUID) -> Document:
        """A material file as uploaded, its SHA-256 checked against the declared one."""
        return self._document(f"/api/v1/materials/{material_id}")

    def provide_information(
        self,
        application_id: str | uuid.UUID,
        answer: str = "",
        material_ids: Sequence[str | uuid.UUID] = (),
    ) -> ApplicationProgress:
        """Provide the materials asked for (files uploaded with :meth:`upload_material`), or
        answer the credit officer's question."""
        body = {"answer": answer, "material_ids": [str(m) for m in material_ids]}
        return self._model(
            ApplicationProgress,
            "POST",
            f"/api/v1/applications/{application_id}/information",
            json=body,
        )

    def application_document(
        self, application_id: str | uuid.UUID, kind: str = "offer_letter"
    ) -> Document:
        """The latest offer letter or the contract (PDF) with the SHA-256 of its bytes."""
        return self._document(f"/api/v1/applications/{application_id}/documents/{kind}")

    def request_acceptance_code(self, application_id: str | uuid.UUID) -> AcceptanceCodeSent:
        """Have a one-time code texted to the legal representative's registered mobile to sign
        the offer letter issued last (the one before is void): where it went, masked."""
        return self._model(
            AcceptanceCodeSent,
            "POST",
            f"/api/v1/applications/{application_id}/acceptance-code",
        )

    def accept_offer(
        self,
        application_id: str | uuid.UUID,
        signer_name: str,
        code: str,
        account: str,
        document_sha256: str | None = None,
    ) -> Outcome[AcceptanceOut]:
        """Accept the offer, signed by the legal representative (``signer_name`` as registered
        and the ``code`` texted by ``request_acceptance_code``); ``document_sha256`` names the
        offer letter read and accepted. Accepting again with the same letter and account
        answers the first acceptance (``already_done``)."""
        body = {"signer_name": signer_name, "code": code, "account": account}
        if document_sha256 is not None:
            body["document_sha256"] = document_sha256
        return self._outcome(
            AcceptanceOut, "POST", f"/api/v1/applications/{application_id}/acceptance", json=body
        )

    def refuse_offer(
        self, application_id: str | uuid.UUID, reason: str = ""
    ) -> ApplicationProgress:
        return self._model(
            ApplicationProgress,
            "POST",
            f"/api/v1/applications/{application_id}/refusal",
            json={"reason": reason},
        )

    def withdraw_application(self, application_id: str | uuid.UUID) -> ApplicationProgress:
        return self._model(
            ApplicationProgress, "POST", f"/api/v1/applications/{application_id}/withdraw"
        )

    # ---- loans ---------------------------------------------------------------------
    def list_loans(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[LoanOut]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return self._models(LoanOut, "GET", "/api/v1/loans", params=params)

    def loan(self, loan_id: str | uuid.UUID) -> LoanOut:
        return self._model(LoanOut, "GET", f"/api/v1/loans/{loan_id}")

    def loan_schedule(self, loan_id: str | uuid.UUID) -> ScheduleOut:
        return self._model(ScheduleOut, "GET", f"/api/v1/loans/{loan_id}/schedule")

    def loan_transactions(self, loan_id: str | uuid.UUID) -> list[TransactionOut]:
        return self._models(TransactionOut, "GET", f"/api/v1/loans/{loan_id}/transactions")

    def loan_statement_pdf(self, loan_id: str | uuid.UUID) -> bytes:
        """The loan account statement (贷款对账单), rendered on request."""
        return self._send("GET", f"/api/v1/loans/{loan_id}/statement.pdf").content

    def loan_document(self, loan_id: str | uuid.UUID, kind: str) -> Document:
        """contract, addendum or settlement_certificate (PDF) with the SHA-256 of its bytes."""
        return self._document(f"/api/v1/loans/{loan_id}/documents/{kind}")

    def _paying(
        self, path: str, body: dict[str, str], idempotency_key: str | None
    ) -> Outcome[LoanProgress]:
        """A payment, prepayment or payoff: its answer; when the API answers 202 (the bank has
        not answered yet), its status is followed for up to ``payment_follow_s`` seconds, and a
        payment still waiting then is a ``payment.processing`` error naming where to look."""
        response = self._send("POST", path, json=body, headers=_idempotency(idempotency_key))
        if response.status_code != 202:
            return _answered(LoanProgress, response)
        status_url = str(response.json()["status_url"])
        deadline = time.monotonic() + self.payment_follow_s
        while time.monotonic() < deadline:
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
            state = self._request("GET", status_url)
            if state["status"] == "posted":
                return Outcome(LoanProgress.model_validate(state["progress"]))
            if state["status"] == "refused":
                raise LoanBridgeError(
                    409, state["refusal_code"], state["message_zh"], state["message_en"], []
                )
        raise LoanBridgeError(
            202,
            "payment.processing",
            f"银行暂未答复，付款仍在处理中，请稍后在 {status_url} 查询，无需重复付款",
            f"The bank has not answered yet; the payment is still being processed. Check "
            f"{status_url} later; do not pay again",
            [],
        )

    def payment_status(self, loan_id: str | uuid.UUID, payment_key: str) -> dict[str, Any]:
        """How a payment under its key stands: posted, processing or refused."""
        answer: dict[str, Any] = self._request(
            "GET", f"/api/v1/loans/{loan_id}/payments/{payment_key}"
        )
        return answer

    def make_payment(
        self, loan_id: str | uuid.UUID, amount: Decimal, idempotency_key: str | None = None
    ) -> Outcome[LoanProgress]:
        """Pay now; a repeated idempotency key pays once (``already_done``)."""
        return self._paying(
            f"/api/v1/loans/{loan_id}/payments", {"amount": str(amount)}, idempotency_key
        )

    def prepay(
        self,
        loan_id: str | uuid.UUID,
        amount: Decimal,
        strategy: str,
        idempotency_key: str | None = None,
    ) -> Outcome[LoanProgress]:
        """Repay principal early: reduce_installment_count or reduce_installment_amount."""
        return self._paying(
            f"/api/v1/loans/{loan_id}/prepayments",
            {"amount": str(amount), "strategy": strategy},
            idempotency_key,
        )

    def payoff_quote(
        self, loan_id: str | uuid.UUID, valid_until: date | None = None
    ) -> PayoffQuoteOut:
        params = {"valid_until": valid_until.isoformat()} if valid_until else {}
        return self._model(
            PayoffQuoteOut, "GET", f"/api/v1/loans/{loan_id}/payoff-quote", params=params
        )

    def pay_off(
        self, loan_id: str | uuid.UUID, amount: Decimal, idempotency_key: str | None = None
    ) -> Outcome[LoanProgress]:
        """Settle the whole loan today with at least the payoff quote's total."""
        return self._paying(
            f"/api/v1/loans/{loan_id}/payoff", {"amount": str(amount)}, idempotency_key
        )

    def request_extension(
        self,
        loan_id: str | uuid.UUID,
        extra_months: int,
        reason: str,
        *,
        financial_difficulty: bool = False,
        guarantor_consent: str = "",
    ) -> LoanProgress:
        """Ask for an extension (展期); an officer decides it in the task inbox."""
        body = {
            "extra_months": extra_months,
            "reason": reason,
            "financial_difficulty": financial_difficulty,
            "guarantor_consent": guarantor_consent,
        }
        return self._model(LoanProgress, "POST", f"/api/v1/loans/{loan_id}/extensions", json=body)


@dataclass(frozen=True)
class Document:
    """A downloaded PDF: its bytes, the SHA-256 of those bytes, the hash the API declared
    and, for an offer letter, the hash its acceptance takes (:attr:`accepts`)."""

    content: bytes
    sha256: str
    declared_sha256: str | None = None
    offer_sha256: str | None = None

    @property
    def accepts(self) -> str:
        """What accepting this offer letter binds to: the digest of the offer's terms the
        letter prints, or (letters from before, or another document) the bytes' SHA-256."""
        return self.offer_sha256 or self.sha256


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def _error_from(response: httpx.Response) -> LoanBridgeError:
    try:
        err = response.json()["error"]
        fields = [FieldError(**f) for f in err.get("fields", [])]
        return LoanBridgeError(
            response.status_code,
            err["code"],
            err["message_zh"],
            err["message_en"],
            fields,
            {str(k): str(v) for k, v in (err.get("details") or {}).items()},
        )
    except (ValueError, KeyError, TypeError):
        return LoanBridgeError(
            response.status_code,
            f"http.{response.status_code}",
            "请求失败",
            response.text[:200],
            [],
        )
