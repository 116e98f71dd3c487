"""Typed Python client for the LoanBridge HTTP API (httpx), used by the CLI, the demo and tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from api.schemas import HealthOut, InstitutionOut, TokenPair, UserOut


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
    def _request(self, method: str, path: str, *, retry_auth: bool = True, **kwargs: Any) -> Any:
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
                return self._request(method, path, retry_auth=False, headers=headers, **kwargs)
        if response.status_code >= 400:
            raise _error_from(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

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
        """Register an enterprise (see RegistrationIn); answers the ack with the masked mobile."""
        return dict(self._request("POST", "/api/v1/registrations", json=registration))

    def confirm_code(self, enterprise_id: str, code: str) -> dict[str, Any]:
        return dict(
            self._request("POST", f"/api/v1/registrations/{enterprise_id}/otp", json={"code": code})
        )

    def resend_code(self, enterprise_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v1/registrations/{enterprise_id}/otp/resend"))

    def registration_progress(self, enterprise_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/registrations/{enterprise_id}"))

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

    # ---- tasks ---------------------------------------------------------------------
    def list_tasks(self, state: str = "open", kind: str | None = None) -> list[dict[str, Any]]:
        params = {"state": state, **({"kind": kind} if kind else {})}
        return list(self._request("GET", "/api/v1/tasks", params=params))

    def decide_task(self, task_id: str, approve: bool, reason: str = "") -> dict[str, Any]:
        body = {"approve": approve, "reason": reason}
        return dict(self._request("POST", f"/api/v1/tasks/{task_id}/decision", json=body))

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

    def application_progress(self, application_id: str) -> dict[str, Any]:
        return dict(self._request("GET", f"/api/v1/applications/{application_id}/progress"))

    def accept_offer(self, application_id: str, typed_name: str, account: str) -> dict[str, Any]:
        return dict(
            self._request(
                "POST",
                f"/api/v1/applications/{application_id}/acceptance",
                json={"typed_name": typed_name, "account": account},
            )
        )

    def withdraw_application(self, application_id: str) -> dict[str, Any]:
        return dict(self._request("POST", f"/api/v1/applications/{application_id}/withdraw"))


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
