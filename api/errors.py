"""One error envelope for every failure: machine code, Chinese and English message, field issues."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from domain.errors import BusinessRuleError, FieldIssue
from services.errors import Refusal
from services.inputs import field_issues

log = structlog.get_logger("loanbridge.api")

# Temporal unreachable or too busy to answer in time (a query the worker cannot answer before
# the client's RPC timeout comes back CANCELLED "Timeout expired"): retryable, not a 500.
_OUTAGE_RPC_STATUSES = {
    RPCStatusCode.UNAVAILABLE,
    RPCStatusCode.DEADLINE_EXCEEDED,
    RPCStatusCode.CANCELLED,
}


# The API's name for a service refusal: one class, so a refusal raised by a service and one
# raised here are answered by the same handler with the same envelope.
ApiError = Refusal


def _body(
    code: str,
    zh: str,
    en: str,
    fields: Sequence[FieldIssue] = (),
    details: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "error": {
            "code": code,
            "message_zh": zh,
            "message_en": en,
            "fields": [
                {
                    "field": f.field,
                    "code": f.code,
                    "message_zh": f.message_zh,
                    "message_en": f.message_en,
                }
                for f in fields
            ],
        }
    }
    if details:
        body["error"] |= {"details": details}
    return body


def field_issues_from_validation(exc: RequestValidationError) -> list[FieldIssue]:
    """Translate FastAPI/pydantic validation errors into field issues."""
    return field_issues(exc.errors())


def install_error_handlers(app: FastAPI) -> None:
    """Every error leaves the API in the same envelope; nothing unexpected leaks details."""

    @app.exception_handler(Refusal)
    async def _api_error(_: Request, exc: Refusal) -> JSONResponse:
        return JSONResponse(
            _body(exc.code, exc.zh, exc.en, exc.fields, exc.details),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(BusinessRuleError)
    async def _rule_error(_: Request, exc: BusinessRuleError) -> JSONResponse:
        return JSONResponse(
            _body(
                "validation_failed",
                "输入有误，请检查标出的字段",
                "Some fields are invalid",
                exc.issues,
            ),
            status_code=422,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            _body(
                "validation_failed",
                "输入有误，请检查标出的字段",
                "Some fields are invalid",
                field_issues_from_validation(exc),
            ),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        zh, en, code = {
            401: ("请先登录", "Authentication required", "auth.required"),
            403: ("无权执行此操作", "Not allowed", "auth.forbidden"),
            404: ("资源不存在", "Not found", "not_found"),
            405: ("不支持该请求方法", "Method not allowed", "method_not_allowed"),
        }.get(exc.status_code, ("请求无法处理", str(exc.detail), f"http.{exc.status_code}"))
        return JSONResponse(
            _body(code, zh, en), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(psycopg.OperationalError)
    @app.exception_handler(RPCError)
    async def _outage(request: Request, exc: Exception) -> JSONResponse:
        # PostgreSQL or Temporal restarting: a retryable 503, not a 500 with a traceback.
        if isinstance(exc, RPCError) and exc.status not in _OUTAGE_RPC_STATUSES:
            return await _unexpected(request, exc)
        log.warning("dependency unavailable", error_type=type(exc).__name__)
        return JSONResponse(
            _body(
                "service.unavailable",
                "服务暂时不可用，请稍后重试",
                "A service is temporarily unavailable, please retry",
            ),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", error_type=type(exc).__name__, exc_info=exc)
        return JSONResponse(
            _body("internal_error", "系统繁忙，请稍后再试", "Unexpected error, please retry later"),
            status_code=500,
        )
