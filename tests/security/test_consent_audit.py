"""The consent matrix's audit readers (issue 20), on the real workflows: a demand's timeline
names who posted it and the exact amount, so the staff of an institution it was published to
read it (API, JSON and PDF export) and find it by the enterprise only once the enterprise
grants their institution its profile, and no longer from the first read after revocation."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.integration.conftest import Platform
from tests.integration.test_demand_api import _verified_applicant
from tests.security.test_competitor_answers import _bank, _progress, post_demand
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


async def test_a_demand_timeline_is_read_only_under_the_profile_consent(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    inst_id, _, officer = await _bank(platform, f"审计授权银行{uuid.uuid4().hex[:4]}")
    applicant = await _verified_applicant(platform, sandbox)
    posted = await post_demand(platform, applicant)
    demand_id, enterprise_id = posted["id"], posted["enterprise_id"]
    progress = await _progress(platform, demand_id, applicant)
    assert inst_id in {s["institution_id"] for s in progress["institutions"]}, progress
    base = f"/api/v1/audit/workflows/demand-{demand_id}/timeline"

    async def reads() -> list[httpx.Response]:
        search = await platform.http.get(
            f"/api/v1/audit/workflows?enterprise={enterprise_id}", headers=officer
        )
        assert search.status_code == 200, search.text
        found = [h for h in search.json() if h["workflow_id"] == f"demand-{demand_id}"]
        readers = [
            await platform.http.get(url, headers=officer)
            for url in (base, f"{base}.json", f"{base}.pdf")
        ]
        for response in readers:
            assert response.status_code in (200, 404), response.text[:300]
        shown = [r.status_code == 200 for r in readers]
        assert len(set(shown)) == 1, shown  # every reader agrees
        if not shown[0]:  # a search by the enterprise does not confirm its anonymous demand
            assert not found, found
        return readers

    assert all(r.status_code == 404 for r in await reads())
    granted = await platform.http.post(
        "/api/v1/enterprises/me/consents",
        json={"institution_id": inst_id, "scope": "profile"},
        headers=applicant,
    )
    assert granted.status_code == 201, granted.text
    shown = await reads()
    assert all(r.status_code == 200 for r in shown)
    assert shown[2].content.startswith(b"%PDF")
    revoked = await platform.http.delete(
        f"/api/v1/enterprises/me/consents/{granted.json()['id']}", headers=applicant
    )
    assert revoked.status_code == 200, revoked.text
    assert all(r.status_code == 404 for r in await reads())
