"""Demo data for ``loanbridge up --demo``: seeded once, through the real API and workflows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from functools import partial

from cli.accounts import create_platform_admin
from client.api import LoanBridgeClient, LoanBridgeError

DEMO_PASSWORD = "LoanBridge#2026"  # every demo account; the README lists them
DEMO_ADMIN = "admin"

DEMO_INSTITUTIONS = [
    ("ICBC-SZ", "工商银行深圳分行 ICBC Shenzhen", "bank"),
    ("WEBANK", "微众银行 WeBank", "bank"),
    ("HZ-MICRO", "杭州小额贷款公司 Hangzhou Microcredit", "microcredit"),
]

STAFF_ROLES = [("officer", "officer"), ("supervisor", "supervisor"), ("admin", "institution_admin")]
PLATFORM_STAFF = [("compliance", "compliance"), ("regulator", "regulator")]


def seed_demo(api_url: str, database_url: str) -> Iterator[str]:
    """Create the demo accounts and institutions; existing ones are left as they are."""
    asyncio.run(
        create_platform_admin(
            database_url, DEMO_ADMIN, DEMO_PASSWORD, "演示管理员 Demo admin", exist_ok=True
        )
    )
    yield f"platform admin: {DEMO_ADMIN} / {DEMO_PASSWORD}"
    with LoanBridgeClient(api_url, timeout_s=60) as client:
        client.login(DEMO_ADMIN, DEMO_PASSWORD)
        existing = {i.code: i for i in client.list_institutions(limit=200)}
        for code, name, kind in DEMO_INSTITUTIONS:
            inst = existing.get(code) or client.onboard_institution(code, name, kind)
            yield f"institution {code}: {inst.id}"
            for suffix, role in STAFF_ROLES:
                username = f"{code.lower()}-{suffix}"
                create = partial(client.create_user, username, DEMO_PASSWORD, role)
                _ignore_taken(partial(create, display_name=username, institution_id=inst.id))
                yield f"  {role}: {username}"
        for username, role in PLATFORM_STAFF:
            _ignore_taken(
                partial(client.create_user, username, DEMO_PASSWORD, role, display_name=username)
            )
            yield f"{role}: {username}"


def _ignore_taken(create: Callable[[], object]) -> None:
    try:
        create()
    except LoanBridgeError as exc:
        if exc.code != "user.username_taken":
            raise
