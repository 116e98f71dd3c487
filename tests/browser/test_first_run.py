"""The first-run path in a browser: the Temporal Web UI decodes payloads for a compliance
officer logged in to the workbench (and for nobody else), and the API docs render offline."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Page, Route, expect
from temporalio.testing import WorkflowEnvironment

from tests.browser.conftest import Workbench
from tests.conftest import TemporalUi

pytestmark = pytest.mark.integration


async def _probe_workflow(dev_env: WorkflowEnvironment, marker: str) -> str:
    """A workflow whose input (encrypted by our codec) carries ``marker``; nobody runs it."""
    workflow_id = f"codec-probe-{uuid.uuid4().hex[:8]}"
    await dev_env.client.start_workflow(
        "CodecProbeWorkflow",
        {"probe": marker},
        id=workflow_id,
        task_queue=f"codec-probe-{uuid.uuid4().hex[:6]}",
    )
    return workflow_id


async def _open_in_temporal_ui(
    workbench: Workbench, temporal_ui: TemporalUi, username: str, workflow_id: str
) -> tuple[Page, int]:
    """The workflow's page in the Web UI, opened by ``username`` logged in to the workbench,
    and the status of the UI's first call to our codec endpoint."""
    page = await workbench.login(username)
    assert "/web/login" not in page.url, "the workbench login failed"
    async with page.expect_response(
        lambda r: r.url.startswith(temporal_ui.codec_endpoint) and r.request.method == "POST",
        timeout=30_000,
    ) as codec_call:
        await page.goto(f"{temporal_ui.url}/namespaces/default/workflows/{workflow_id}")
    return page, (await codec_call.value).status


async def test_compliance_reads_a_decoded_payload_in_the_temporal_ui_an_officer_does_not(
    workbench: Workbench, temporal_ui: TemporalUi, dev_env: WorkflowEnvironment
) -> None:
    marker = f"decoded-{uuid.uuid4().hex[:10]}"
    workflow_id = await _probe_workflow(dev_env, marker)
    try:
        auditor = await workbench.staff("compliance", None)
        page, status = await _open_in_temporal_ui(workbench, temporal_ui, auditor, workflow_id)
        assert status == 200
        await expect(page.get_by_text(marker).first).to_be_visible(timeout=30_000)
        await workbench.shot(page, "temporal-ui-compliance-decoded")
        await page.context.close()

        created = await workbench.platform.http.post(
            "/api/v1/institutions",
            json={"code": f"UI-{uuid.uuid4().hex[:6].upper()}", "name": "界面测试银行"},
            headers=await workbench.platform.admin_headers(),
        )
        assert created.status_code == 201, created.text
        officer = await workbench.staff("officer", str(created.json()["id"]))
        page, status = await _open_in_temporal_ui(workbench, temporal_ui, officer, workflow_id)
        assert status == 403
        await expect(page.get_by_text("CodecProbeWorkflow").first).to_be_visible(timeout=30_000)
        await page.wait_for_timeout(2_000)  # the UI's retries, if any, are refused alike
        assert marker not in await page.content()
        await workbench.shot(page, "temporal-ui-officer-encrypted")
        await page.context.close()
    finally:
        await dev_env.client.get_workflow_handle(workflow_id).terminate("probe done")


async def test_api_docs_render_with_the_network_cut_off(workbench: Workbench) -> None:
    page = await workbench.new_page()
    refused: list[str] = []

    async def local_only(route: Route) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            await route.continue_()
        else:
            refused.append(route.request.url)
            await route.abort()

    await page.route("**/*", local_only)
    await page.goto("/docs")
    operations = page.locator(".opblock")
    await expect(operations.first).to_be_visible(timeout=30_000)
    assert await operations.count() > 50
    await expect(page.get_by_text("/codec/decode").first).to_be_attached()
    await workbench.shot(page, "api-docs-offline")
    await page.goto("/redoc")
    await expect(page.get_by_text("/api/v1/institutions").first).to_be_attached(timeout=30_000)
    assert refused == []
    await page.context.close()
