"""Failure injection: a per-request header, a runtime fault board, and added latency."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from dataclasses import dataclass
from enum import StrEnum

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sandbox.errors import error_body

logger = structlog.get_logger()

FAULT_HEADER = "x-sandbox-fault"


class Provider(StrEnum):
    """The simulated systems whose requests can be made to fail."""

    IDENTITY = "identity"
    REGISTRY = "registry"
    BUREAU = "bureau"
    TAX = "tax"
    BANK = "bank"
    SMS = "sms"
    MAIL = "mail"


class FaultMode(StrEnum):
    """How an injected fault behaves.

    `lost_response` does the work (a payment is made, a mail is stored) and then answers 503,
    as if the answer had been lost on the way back: the case idempotency keys exist for.
    """

    ERROR = "error"
    TIMEOUT = "timeout"
    SLOW = "slow"
    LOST_RESPONSE = "lost_response"


# URL prefix → provider. `/mail` (the outbox reader) gets latency but no faults: mail faults
# act on the SMTP sink, and tests must always be able to read what arrived.
_PREFIXES: dict[str, Provider] = {
    "/identity/": Provider.IDENTITY,
    "/registry/": Provider.REGISTRY,
    "/bureau/": Provider.BUREAU,
    "/tax/": Provider.TAX,
    "/bank/": Provider.BANK,
    "/sms/": Provider.SMS,
}
_LATENCY_ONLY_PREFIXES = ("/mail/",)


@dataclass(frozen=True, slots=True)
class ArmedFault:
    """A fault waiting for the next `remaining` requests to one provider."""

    provider: Provider
    mode: FaultMode
    remaining: int


class FaultBoard:
    """Faults armed at runtime; thread-safe because the SMTP sink runs on its own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: dict[Provider, ArmedFault] = {}

    def arm(self, provider: Provider, mode: FaultMode, count: int) -> None:
        """Make the next `count` requests to `provider` fail with `mode` (replaces earlier)."""
        with self._lock:
            self._armed[provider] = ArmedFault(provider, mode, count)

    def clear(self, provider: Provider | None = None) -> None:
        """Disarm one provider, or all of them."""
        with self._lock:
            if provider is None:
                self._armed.clear()
            else:
                self._armed.pop(provider, None)

    def snapshot(self) -> list[ArmedFault]:
        """The faults still armed, by provider name."""
        with self._lock:
            return sorted(self._armed.values(), key=lambda f: f.provider.value)

    def take(self, provider: Provider) -> FaultMode | None:
        """Consume one armed fault for this provider, if there is one."""
        with self._lock:
            armed = self._armed.get(provider)
            if armed is None:
                return None
            if armed.remaining <= 1:
                del self._armed[provider]
            else:
                self._armed[provider] = ArmedFault(provider, armed.mode, armed.remaining - 1)
            return armed.mode


@dataclass(frozen=True, slots=True)
class FaultTiming:
    """How long the delaying behaviours last."""

    latency_s: float
    slow_s: float
    timeout_s: float


class FaultInjectionMiddleware:
    """Pure ASGI middleware: adds latency, then applies a header fault or an armed fault."""

    def __init__(self, app: ASGIApp, board: FaultBoard, timing: FaultTiming) -> None:
        self._app = app
        self._board = board
        self._timing = timing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        path: str = scope["path"]
        provider = next((p for prefix, p in _PREFIXES.items() if path.startswith(prefix)), None)
        if provider is None and not path.startswith(_LATENCY_ONLY_PREFIXES):
            await self._app(scope, receive, send)
            return
        if self._timing.latency_s > 0:
            await asyncio.sleep(self._timing.latency_s)
        if provider is None:
            await self._app(scope, receive, send)
            return

        header = _header(scope, FAULT_HEADER)
        if header is not None:
            try:
                mode: FaultMode | None = FaultMode(header.strip().lower())
            except ValueError:
                await _send_json(
                    send,
                    400,
                    error_body(
                        "UNKNOWN_FAULT_MODE",
                        f"X-Sandbox-Fault must be one of {', '.join(m.value for m in FaultMode)}",
                    ),
                )
                return
        else:
            mode = self._board.take(provider)
        if mode is None:
            await self._app(scope, receive, send)
            return

        logger.info("sandbox.fault_injected", provider=provider.value, mode=mode.value)
        if mode is FaultMode.ERROR:
            await _send_json(send, 503, error_body("SANDBOX_FAULT", "injected provider error"))
        elif mode is FaultMode.SLOW:
            await asyncio.sleep(self._timing.slow_s)
            await self._app(scope, receive, send)
        elif mode is FaultMode.TIMEOUT:
            if await _hold_until_disconnect(receive, self._timing.timeout_s):
                return
            await _send_json(
                send, 504, error_body("SANDBOX_TIMEOUT", "injected timeout: nobody answered")
            )
        else:
            await self._app(scope, receive, _discard)
            await _send_json(
                send, 503, error_body("SANDBOX_FAULT", "injected fault: the answer was lost")
            )


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for key, value in scope.get("headers", ()):
        if key.lower() == wanted:
            return bytes(value).decode("latin-1")
    return None


async def _send_json(send: Send, status: int, body: dict[str, object]) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


async def _discard(_: Message) -> None:
    return None


async def _hold_until_disconnect(receive: Receive, seconds: float) -> bool:
    """Sleep `seconds` unless the client hangs up first; True when it hung up."""

    async def disconnected() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    watcher = asyncio.create_task(disconnected())
    try:
        done, _ = await asyncio.wait({watcher}, timeout=seconds)
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    return bool(done)
