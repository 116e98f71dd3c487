"""HTTP hardening on every request and response: security headers, body limits, NUL bytes and
unknown query parameters refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.dependencies.models import Dependant
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ApiError
from domain.errors import issue
from domain.materials import MAX_MATERIAL_BYTES
from domain.onboarding import MAX_UPLOAD_BYTES

# The API answers JSON and PDFs: nothing in it may load, run or frame anything.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Swagger UI and ReDoc load their bundles from our own /docs/assets and run a small inline
# bootstrap; nothing comes from another origin (the pages work offline).
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self'; img-src 'self' data:; worker-src 'self' blob:; frame-ancestors 'none'; "
    "base-uri 'self'"
)
DOCS_PATHS = ("/docs", "/redoc")
HSTS = "max-age=31536000; includeSubDomains"
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# A multipart upload carries one file of at most the larger upload limit (verification
# documents, materials) plus its form framing; past this the request is refused before it is
# read (the upload route's own check names the field).
MULTIPART_ALLOWANCE = max(MAX_UPLOAD_BYTES, MAX_MATERIAL_BYTES) + 256 * 1024
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def is_https(scope: Scope) -> bool:
    """HTTPS directly, or behind a TLS-terminating proxy that says so."""
    if scope.get("scheme") == "https":
        return True
    forwarded = Headers(scope=scope).get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def security_headers(path: str, https: bool) -> dict[str, str]:
    """The headers every response carries (a response's own values take precedence)."""
    headers = dict(BASE_HEADERS)
    docs = path.startswith(DOCS_PATHS)
    headers["Content-Security-Policy"] = DOCS_CSP if docs else API_CSP
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def body_limit(scope: Scope, default_limit: int) -> int:
    """Bytes a request body may have: uploads get room for one file, everything else less."""
    content_type = Headers(scope=scope).get("content-type", "")
    if content_type.lower().startswith("multipart/form-data"):
        return max(default_limit, MULTIPART_ALLOWANCE)
    return default_limit


def _envelope(code: str, zh: str, en: str) -> bytes:
    error = {"code": code, "message_zh": zh, "message_en": en, "fields": []}
    return json.dumps({"error": error}, ensure_ascii=False).encode()


def _too_large(limit: int) -> bytes:
    return _envelope(
        "request.too_large",
        f"请求内容过大（上限 {limit} 字节）",
        f"The request body is too large (limit {limit} bytes)",
    )


def has_nul(scope: Scope) -> bool:
    """A NUL in the path or the query string: no text column or log line can take it."""
    query: bytes = scope.get("query_string", b"")
    return "\x00" in scope["path"] or b"%00" in query.lower() or b"\x00" in query


class SecurityMiddleware:
    """Pure ASGI: adds the security headers and refuses oversized bodies with a 413 envelope.

    A declared Content-Length over the limit is refused before anything is read; a body sent
    without one (chunked) is read up to the limit and refused as soon as it goes past it.
    """

    def __init__(self, app: ASGIApp, max_request_bytes: int) -> None:
        self.app = app
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope["path"], is_https(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        if has_nul(scope):
            body = _envelope(
                "request.nul_character",
                "地址或查询参数中不允许包含空字符 (NUL)",
                "NUL characters are not allowed in the path or the query",
            )
            await self._refuse(send_with_headers, 422, body)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send_with_headers)
            return
        limit = body_limit(scope, self.max_request_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(send_with_headers, 413, _too_large(limit))
                return
            await self.app(scope, receive, send_with_headers)
            return
        # No length declared: buffer up to the limit, then replay the body to the app.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send_with_headers, 413, _too_large(limit))
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send_with_headers)

    @staticmethod
    async def _refuse(send: Send, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


_known_query: dict[int, frozenset[str]] = {}
F = TypeVar("F", bound=Callable[..., Any])


def _declared_query(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query(sub)
    return names


def _query_names(route: Any) -> frozenset[str]:
    key = id(route)
    if key not in _known_query:
        _known_query[key] = frozenset(_declared_query(route.dependant))
    return _known_query[key]


def accepts_any_query_parameters(endpoint: F) -> F:
    """Mark a route whose callers we do not write (the Temporal Web UI's codec calls carry
    ``?preserveStorageRefs=true`` and may add more): its query parameters are not checked."""
    endpoint.accepts_any_query = True  # type: ignore[attr-defined]
    return endpoint


async def reject_unknown_query_parameters(request: Request) -> None:
    """Unknown query parameters are refused like unknown body fields: a typo in a filter
    (``?stat=open``) must not silently return everything."""
    route = request.scope.get("route")
    if route is None or not hasattr(route, "dependant"):
        return
    if getattr(getattr(route, "endpoint", None), "accepts_any_query", False):
        return
    unknown = sorted(set(request.query_params.keys()) - _query_names(route))
    if unknown:
        raise ApiError(
            422,
            "validation_failed",
            "输入有误，请检查标出的字段",
            "Some fields are invalid",
            [
                issue(
                    name or "query", "field.unknown", "不认识的查询参数", "Unknown query parameter"
                )
                for name in unknown
            ],
        )
