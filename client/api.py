"""Typed Python client for the LoanBridge HTTP API (httpx), used by the CLI, the demo and tests."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from api.schemas import HealthOut, InstitutionOut, TokenPair, UserOut

REGISTRATION_SECRET_HEADER = "X-Registration-Secret"


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
        self, status: int, code: str, message_zh: str, message_en: str, fields: list[FieldError]
    ) -> None:
        super().__init__(f"{status} {code}: {message_en}")
        self.status, self.code = status, code
        self.message_zh, self.message_en = message_zh, message_en
        self.fields = fields


@dataclass
class LoanBridgeClient:
    """Synchronous client; tokens are kept and refreshed once on expiry."""

    base_url: str
    access_token: str | None = None
    refresh_token: str | None = None
    timeout_s: float = 30.0
    transport: httpx.BaseTransport | None = None
    # Registration secrets by enterprise id, kept from register() and sent by themselves on
    # that registration's calls (the API shows a secret only once).
    registration_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    _http: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"), timeout=self.timeout_s, transport=self.transport
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
        return Document(content=content, sha256=digest, declared_sha256=declared)

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
    def register(self, registration: dict[str, Any]) -> dict[str, Any]:
        """Register an enterprise (see RegistrationIn); answers the ack with the masked mobile.

        The registration secret of the answer is kept: ``confirm_code``, ``resend_code`` and
        ``registration_progress`` of this registration send it themselves."""
        ack = dict(self._request("POST", "/api/v1/registrations", json=registration))
        secret = ack.get("registration_secret")
        if secret:
            self.registration_secrets[str(ack["enterprise_id"])] = str(secret)
        return ack

    def _registration_headers(self, enterprise_id: str) -> dict[str, str]:
        secret = self.registration_secrets.get(str(enterprise_id))
        return {REGISTRATION_SECRET_HEADER: secret} if secret else {}

    def confirm_code(self, enterprise_id: str, code: str) -> dict[str, Any]:
        return dict(
            self._request(
                "POST",
                f"/api/v1/registrations/{enterprise_id}/otp",
                json={"code": code},
                headers=self._registration_headers(enterprise_id),
            )
        )

    def resend_code(self, enterprise_id: str) -> dict[str, Any]:
        return dict(
            self._request(
                "POST",
                f"/api/v1/registrations/{enterprise_id}/otp/resend",
                headers=self._registration_headers(enterprise_id),
            )
        )

    def registration_progress(self, enterprise_id: str) -> dict[str, Any]:
        """Where a registration stands: with its kept secret, or as the enterprise's account."""
        return dict(
            self._request(
                "GET",
                f"/api/v1/registrations/{enterprise_id}",
                headers=self._registration_headers(enterprise_id),
            )
        )

    def upload_document(self, kind: str, filename: str, content: bytes) -> dict[str, Any]:
        return dict(
            self._request(
                "POST",
                "/api/v1/enterprises/me/documents",
                data={"kind": kind},
                files={"file": (filename, content)},
            )
        )

    def my_enterprise(self) -> dict[str, Any]:
        return dict(self._request("GET", "/api/v1/enterprises/me"))

    def resubmit_registration(
        self,
        *,
        enterprise_name: str | None = None,
        legal_rep_name: str | None = None,
        id_number: str | None = None,
        reupload_documents: Sequence[str] = (),
    ) -> dict[str, Any]:
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
        return dict(self._request("POST", "/api/v1/enterprises/me/resubmission", json=body))

    # ---- tasks ---------------------------------------------------------------------
    def list_tasks(self, state: str = "open", kind: str | None = None) -> list[dict[str, Any]]:
        params = {"state": state, **({"kind": kind} if kind else {})}
        return list(self._request("GET", "/api/v1/tasks", params=params))

    def decide_task(
        self,
        task_id: str,
        approve: bool,
        reason: str = "",
        *,
        action: str | None = None,
        question: str = "",
        amount: Decimal | None = None,
        rate: Decimal | None = None,
        term_months: int | None = None,
    ) -> dict[str, Any]:
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
        return dict(self._request("POST", f"/api/v1/tasks/{task_id}/decision", json=body))

    def claim_task(self, task_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v1/tasks/{task_id}/claim"))

    # ---- demands, comparison, products ---------------------------------------------
    def post_demand(
        self, demand: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return dict(self._request("POST", "/api/v1/demands", json=demand, headers=headers))

    def demand(self, demand_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/demands/{demand_id}"))

    def demand_progress(self, demand_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/demands/{demand_id}/progress"))

    def withdraw_demand(self, demand_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v1/demands/{demand_id}/withdraw"))

    def answer_demand(self, demand_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v1/demands/{demand_id}/responses", json=answer))

    def compare(self, demand_id: str) -> list[dict[str, Any]]:
        return list(self._request("GET", f"/api/v1/demands/{demand_id}/comparison"))

    def comparison_pdf(self, demand_id: str) -> bytes:
        headers = {"Authorization": f"Bearer {self.access_token}"} if self.access_token else {}
        response = self._http.get(f"/api/v1/demands/{demand_id}/comparison.pdf", headers=headers)
        if response.status_code >= 400:
            raise _error_from(response)
        return response.content

    def select_products(self, demand_id: str, product_ids: list[str]) -> dict[str, Any]:
        return dict(
            self._request(
                "POST", f"/api/v1/demands/{demand_id}/selection", json={"product_ids": product_ids}
            )
        )

    def publish_product(self, product: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", "/api/v1/products", json=product))

    def list_products(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/api/v1/products", params={"limit": 200}))

    def list_policies(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/api/v1/policies"))

    def publish_policy(self, policy: dict[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", "/api/v1/policies", json=policy))

    # ---- applications --------------------------------------------------------------
    def submit_application(
        self, application: dict[str, Any], idempotency_key: str | None = None
    ) -> dict[str, Any]:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        return dict(
            self._request("POST", "/api/v1/applications", json=application, headers=headers)
        )

    def application(self, application_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/applications/{application_id}"))

    def application_progress(self, application_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/applications/{application_id}/progress"))

    def provide_information(
        self, application_id: str, answer: str = "", materials: list[str] | None = None
    ) -> dict[str, Any]:
        """Provide the materials asked for, or answer the credit officer's question."""
        body = {"answer": answer, "materials": list(materials or [])}
        return dict(
            self._request("POST", f"/api/v1/applications/{application_id}/information", json=body)
        )

    def application_document(self, application_id: str, kind: str = "offer_letter") -> Document:
        """The latest offer letter or the contract (PDF) with the SHA-256 of its bytes."""
        return self._document(f"/api/v1/applications/{application_id}/documents/{kind}")

    def accept_offer(
        self,
        application_id: str,
        typed_name: str,
        account: str,
        document_sha256: str | None = None,
    ) -> dict[str, Any]:
        """Accept the offer; ``document_sha256`` names the offer letter read and accepted."""
        body = {"typed_name": typed_name, "account": account}
        if document_sha256 is not None:
            body["document_sha256"] = document_sha256
        return dict(
            self._request("POST", f"/api/v1/applications/{application_id}/acceptance", json=body)
        )

    def refuse_offer(self, application_id: str, reason: str = "") -> dict[str, Any]:
        return dict(
            self._request(
                "POST",
                f"/api/v1/applications/{application_id}/refusal",
                json={"reason": reason},
            )
        )

    def withdraw_application(self, application_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v1/applications/{application_id}/withdraw"))

    # ---- loans ---------------------------------------------------------------------
    def list_loans(
        self, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if status:
            params["status"] = status
        return list(self._request("GET", "/api/v1/loans", params=params))

    def loan(self, loan_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/loans/{loan_id}"))

    def loan_schedule(self, loan_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/loans/{loan_id}/schedule"))

    def loan_transactions(self, loan_id: str) -> list[dict[str, Any]]:
        return list(self._request("GET", f"/api/v1/loans/{loan_id}/transactions"))

    def loan_statement_pdf(self, loan_id: str) -> bytes:
        """The loan account statement (贷款对账单), rendered on request."""
        return self._send("GET", f"/api/v1/loans/{loan_id}/statement.pdf").content

    def loan_document(self, loan_id: str, kind: str) -> Document:
        """contract, addendum or settlement_certificate (PDF) with the SHA-256 of its bytes."""
        return self._document(f"/api/v1/loans/{loan_id}/documents/{kind}")

    def make_payment(
        self, loan_id: str, amount: Decimal, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Pay now; a repeated idempotency key pays once."""
        return dict(
            self._request(
                "POST",
                f"/api/v1/loans/{loan_id}/payments",
                json={"amount": str(amount)},
                headers=_idempotency(idempotency_key),
            )
        )

    def prepay(
        self,
        loan_id: str,
        amount: Decimal,
        strategy: str,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        """Repay principal early: reduce_installment_count or reduce_installment_amount."""
        return dict(
            self._request(
                "POST",
                f"/api/v1/loans/{loan_id}/prepayments",
                json={"amount": str(amount), "strategy": strategy},
                headers=_idempotency(idempotency_key),
            )
        )

    def payoff_quote(self, loan_id: str, valid_until: date | None = None) -> dict[str, Any]:
        params = {"valid_until": valid_until.isoformat()} if valid_until else {}
        return dict(self._request("GET", f"/api/v1/loans/{loan_id}/payoff-quote", params=params))

    def pay_off(
        self, loan_id: str, amount: Decimal, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """Settle the whole loan today with at least the payoff quote's total."""
        return dict(
            self._request(
                "POST",
                f"/api/v1/loans/{loan_id}/payoff",
                json={"amount": str(amount)},
                headers=_idempotency(idempotency_key),
            )
        )

    def request_extension(
        self,
        loan_id: str,
        extra_months: int,
        reason: str,
        *,
        financial_difficulty: bool = False,
        guarantor_consent: str = "",
    ) -> dict[str, Any]:
        """Ask for an extension (展期); an officer decides it in the task inbox."""
        body = {
            "extra_months": extra_months,
            "reason": reason,
            "financial_difficulty": financial_difficulty,
            "guarantor_consent": guarantor_consent,
        }
        return dict(self._request("POST", f"/api/v1/loans/{loan_id}/extensions", json=body))


@dataclass(frozen=True)
class Document:
    """A downloaded PDF: its bytes, the SHA-256 of those bytes, the hash the API declared."""

    content: bytes
    sha256: str
    declared_sha256: str | None = None


def _idempotency(key: str | None) -> dict[str, str]:
    return {"Idempotency-Key": key} if key else {}


def _error_from(response: httpx.Response) -> LoanBridgeError:
    try:
        err = response.json()["error"]
        fields = [FieldError(**f) for f in err.get("fields", [])]
        return LoanBridgeError(
            response.status_code, err["code"], err["message_zh"], err["message_en"], fields
        )
    except (ValueError, KeyError, TypeError):
        return LoanBridgeError(
            response.status_code,
            f"http.{response.status_code}",
            "请求失败",
            response.text[:200],
            [],
        )
