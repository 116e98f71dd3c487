"""A pass-through in front of the Temporal Web UI that tells it to send credentials to the codec
endpoint: the UI's ``/api/v1/settings`` answer gets ``Codec.IncludeCredentials: true``, so a
compliance officer logged in to the workbench decodes payloads with no setting to make
(``temporal server start-dev`` can set the codec endpoint but not this flag). Everything else
passes unchanged. Run by ``loanbridge up`` on the UI's public port:
``uvicorn runtime.ui_proxy:create_app --factory`` with ``TEMPORAL_UI_UPSTREAM`` set."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

SETTINGS_PATH = "/api/v1/settings"
# Hop-by-hop headers, and what the proxy recomputes, never cross it.
_DROPPED = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}


def with_credentials(settings: bytes) -> bytes:
    """The UI's settings with the codec told to include credentials (when it has an endpoint)."""
    document = json.loads(settings)
    codec = document.get("Codec") or {}
    if codec.get("Endpoint"):
        codec["IncludeCredentials"] = True
    return json.dumps(document).encode()


def create_app(upstream: str | None = None) -> Starlette:
    base = (upstream or os.environ["TEMPORAL_UI_UPSTREAM"]).rstrip("/")
    client = httpx.AsyncClient(base_url=base, timeout=60, follow_redirects=False)

    async def forward(request: Request) -> Response:
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROPPED]
        outgoing = client.build_request(
            request.method,
            request.url.path,
            params=request.url.query,
            headers=headers,
            content=request.stream(),
        )
        answer = await client.send(outgoing, stream=True)
        kept = [(k, v) for k, v in answer.headers.multi_items() if k.lower() not in _DROPPED]
        if request.url.path == SETTINGS_PATH and answer.status_code == 200:
            body = with_credentials(await answer.aread())  # decoded: drop its encoding
            await answer.aclose()
            kept = [(k, v) for k, v in kept if k.lower() != "content-encoding"]
            response = Response(body, status_code=200)
        else:

            async def raw() -> AsyncIterator[bytes]:
                async for chunk in answer.aiter_raw():
                    yield chunk

            response = StreamingResponse(
                raw(), status_code=answer.status_code, background=BackgroundTask(answer.aclose)
            )
        response.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in kept] + [
            h for h in response.raw_headers if h[0] == b"content-length"
        ]
        return response

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", forward, methods=methods)], lifespan=lifespan)
