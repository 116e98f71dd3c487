"""How every LoanBridge process connects to Temporal: address, namespace, TLS/API key, converter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from temporalio import activity
from temporalio.client import Client
from temporalio.service import TLSConfig
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from config.codec import data_converter_from_settings
from config.settings import Settings


def tls_config(settings: Settings) -> TLSConfig | bool:
    """TLS/mTLS from file paths in settings; plain TCP for the embedded dev server."""
    if not (
        settings.temporal_tls or settings.temporal_tls_client_cert or settings.temporal_api_key
    ):
        return False
    return TLSConfig(
        server_root_ca_cert=_read(settings.temporal_tls_server_ca),
        client_cert=_read(settings.temporal_tls_client_cert),
        client_private_key=_read(settings.temporal_tls_client_key),
    )


def _read(path: Path | None) -> bytes | None:
    return Path(str(path)).read_bytes() if path else None


async def connect_temporal(settings: Settings) -> Client:
    """A client with the pydantic converter (Decimal, date), payload encryption and security.

    Every payload and failure is AES-GCM encrypted before it reaches Temporal, so histories
    hold no personal data in clear (the key id travels in each payload's metadata).
    """
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=api_key,
        data_converter=data_converter_from_settings(settings),
    )


class _ActivityLogContext(ActivityInboundInterceptor):
    """Binds workflow id, run id, activity name and attempt to every log line of an activity."""

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        with structlog.contextvars.bound_contextvars(
            workflow_id=info.workflow_id,
            run_id=info.workflow_run_id,
            activity=info.activity_type,
            attempt=info.attempt,
        ):
            return await super().execute_activity(input)


class LoggingInterceptor(Interceptor):
    """Worker interceptor that gives activity logs their Temporal context."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityLogContext(next)
