"""The message centre over the API: an enterprise lists its notices newest first with the
unread count and the case each is about, marks them read one by one or all at once, and never
sees or marks another enterprise's."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.integration.conftest import Platform
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    onboard_to_documents,
    upload_all,
    wait_for_stage,
)
from tests.support import SandboxProcess

URL = "/api/v1/notifications"


async def _notices(platform: Platform, headers: dict[str, str], count: int) -> dict[str, Any]:
    """The enterprise's notices once at least ``count`` arrived (the notify activity is async)."""
    for _ in range(200):
        page = await platform.http.get(URL, headers=headers)
        assert page.status_code == 200, page.text
        if page.json()["total"] >= count:
            return dict(page.json())
        await asyncio.sleep(0.1)
    raise AssertionError(f"fewer than {count} notices: {page.text}")


async def test_an_enterprise_reads_its_own_notices_and_no_other(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    verified_id, verified = await onboard_to_documents(
        platform, sandbox, new_uscc(), new_mobile(), new_id_number()
    )
    await upload_all(platform, verified)
    assert (await wait_for_stage(platform, verified_id, {"verified"}))["stage"] == "verified"
    _, other = await onboard_to_documents(
        platform, sandbox, new_uscc(), new_mobile(), new_id_number()
    )

    page = await _notices(platform, verified, 2)
    templates = [n["template"] for n in page["items"]]
    assert templates[0] == "verification_approved"  # newest first
    assert "registration_received" in templates
    assert page["unread"] == page["total"] == len(page["items"])
    newest = page["items"][0]
    assert newest["case_kind"] == "verification" and newest["case_id"] == verified_id
    assert "sms" in newest["channels"] and "in_app" in newest["channels"]
    assert newest["read_at"] is None
    # Both languages kept: the Chinese text and its English rendering, neither the other's.
    assert newest["subject_en"] and newest["body_en"]
    assert newest["body_en"] != newest["body"]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in newest["subject_en"])

    others = await _notices(platform, other, 1)
    assert {n["id"] for n in others["items"]}.isdisjoint(n["id"] for n in page["items"])
    stolen = await platform.http.post(f"{URL}/{newest['id']}/read", headers=other)
    assert stolen.status_code == 404
    assert stolen.json()["error"]["code"] == "not_found"

    read = await platform.http.post(f"{URL}/{newest['id']}/read", headers=verified)
    assert read.status_code == 200, read.text
    assert read.json()["read_at"] is not None
    again = await platform.http.post(f"{URL}/{newest['id']}/read", headers=verified)
    assert again.json()["read_at"] == read.json()["read_at"]  # the first read time stays
    assert (await platform.http.get(URL, headers=verified)).json()["unread"] == page["unread"] - 1

    everything = await platform.http.post(f"{URL}/read-all", headers=verified)
    assert everything.status_code == 200
    assert everything.json()["marked_read"] == page["unread"] - 1
    assert (await platform.http.get(URL, headers=verified)).json()["unread"] == 0
    assert (await platform.http.get(URL, headers=other)).json()["unread"] == others["unread"]

    one = await platform.http.get(f"{URL}?limit=1&offset=1", headers=verified)
    assert [n["id"] for n in one.json()["items"]] == [page["items"][1]["id"]]


async def test_staff_are_refused_and_bad_paging_names_its_field(
    platform: Platform, sandbox: SandboxProcess
) -> None:
    refused = await platform.http.get(URL, headers=await platform.admin_headers())
    assert refused.status_code == 403
    assert refused.json()["error"]["code"]
    _, applicant = await onboard_to_documents(
        platform, sandbox, new_uscc(), new_mobile(), new_id_number()
    )
    bad = await platform.http.get(f"{URL}?limit=0", headers=applicant)
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["message_zh"] and error["message_en"]
    assert [f["field"] for f in error["fields"]] == ["limit"]
