"""The workbench served over real HTTP (uvicorn) next to the integration platform, and a
headless Debian Chromium driven by Playwright; screenshots go to tests/browser/artifacts/."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

from runtime.ui_proxy import create_app as create_ui_proxy
from server import create_app
from tests.conftest import TemporalUi
from tests.integration.conftest import Platform
from tests.integration.test_demand_api import STAFF_PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


async def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page (rule, and where)."""
    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@dataclass
class Workbench:
    """The served workbench: its base URL, the platform behind it, a browser, screenshots."""

    base_url: str
    platform: Platform
    browser: Browser

    async def new_page(self) -> Page:
        context = await self.browser.new_context(
            base_url=self.base_url, viewport={"width": 1360, "height": 900}, locale="zh-CN"
        )
        return await context.new_page()

    async def login(self, username: str, password: str = STAFF_PASSWORD) -> Page:
        page = await self.new_page()
        await page.goto("/web/login")
        await page.fill("#username", username)
        await page.fill("#password", password)
        await page.click("button[type=submit]")
        await page.wait_for_load_state("domcontentloaded")
        return page

    async def shot(self, page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path

    async def staff(self, role: str, institution_id: str | None) -> str:
        """A new staff login (created through the API by the platform admin)."""
        username = f"{role[:5]}{uuid.uuid4().hex[:6]}"
        created = await self.platform.http.post(
            "/api/v1/users",
            json={
                "username": username,
                "password": STAFF_PASSWORD,
                "role": role,
                "institution_id": institution_id,
            },
            headers=await self.platform.admin_headers(),
        )
        assert created.status_code == 201, created.text
        return username


@pytest.fixture(scope="session")
async def workbench(platform: Platform, temporal_ui: TemporalUi) -> AsyncIterator[Workbench]:
    """uvicorn on the loopback port the dev server's Web UI decodes through, serving a second
    app on the same database and Temporal; Chromium from Debian (a missing browser fails the
    suite: it is installed by bootstrap)."""
    assert shutil.which("chromium") == CHROMIUM, "Debian's chromium is missing (bootstrap)"
    port = temporal_ui.codec_port
    app = create_app(platform.settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    # The Temporal Web UI behind the proxy `loanbridge up` puts in front of it.
    ui_proxy = uvicorn.Server(
        uvicorn.Config(
            create_ui_proxy(f"http://127.0.0.1:{temporal_ui.upstream_port}"),
            host="127.0.0.1",
            port=int(temporal_ui.url.rsplit(":", 1)[1]),
            log_level="warning",
            lifespan="on",
        )
    )
    serving = asyncio.create_task(server.serve())
    proxying = asyncio.create_task(ui_proxy.serve())
    for _ in range(200):
        if server.started and ui_proxy.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the workbench server did not start"
    assert ui_proxy.started, "the Temporal UI proxy did not start"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield Workbench(f"http://127.0.0.1:{port}", platform, browser)
        finally:
            await browser.close()
    server.should_exit = ui_proxy.should_exit = True
    await serving
    await proxying
