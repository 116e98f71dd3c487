"""``loanbridge doctor``: one line per component saying whether it answers and where."""

from __future__ import annotations

import httpx
import psutil

from cli.preflight import ConfigurationError, check_database, check_temporal
from config.settings import Settings
from documents.fonts import find_cjk_font, missing_font_message


def _http(url: str) -> tuple[bool, str]:
    try:
        response = httpx.get(url, timeout=3)
    except httpx.HTTPError as exc:
        return False, f"{url} unreachable ({type(exc).__name__})"
    return response.status_code == 200, f"{url} → {response.status_code}"


def diagnose(settings: Settings, state: dict[str, object]) -> list[tuple[str, bool, str]]:
    """Check the running platform (from its state file) or the configured external services."""
    rows: list[tuple[str, bool, str]] = []
    urls = state.get("urls") if isinstance(state.get("urls"), dict) else {}
    assert isinstance(urls, dict)
    pid = state.get("supervisor_pid")
    running = isinstance(pid, int) and psutil.pid_exists(pid)
    rows.append(("supervisor", running, f"pid {pid}" if running else "no `loanbridge up` running"))

    database_url = settings.database_url or str(state.get("database_url") or "")
    if database_url:
        try:
            check_database(database_url, timeout_s=3)
            rows.append(("postgresql", True, database_url))
        except ConfigurationError as exc:
            rows.append(("postgresql", False, str(exc)))
    else:
        rows.append(("postgresql", False, "DATABASE_URL not set and nothing running"))

    address = settings.temporal_address or str(state.get("temporal_address") or "")
    if address:
        try:
            check_temporal(settings.model_copy(update={"temporal_address": address}), timeout_s=4)
            rows.append(("temporal", True, address))
        except ConfigurationError as exc:
            rows.append(("temporal", False, str(exc)))
    else:
        rows.append(("temporal", False, "TEMPORAL_ADDRESS not set and nothing running"))

    checks = {
        "temporal web ui": urls.get("temporal_ui"),
        "providers": f"{urls['providers']}/healthz" if urls.get("providers") else None,
        "api": f"{urls['api']}/healthz" if urls.get("api") else None,
        "api readiness": f"{urls['api']}/readyz" if urls.get("api") else None,
    }
    for name, url in checks.items():
        if url:
            ok, detail = _http(str(url))
            rows.append((name, ok, detail))
        else:
            rows.append((name, False, "not started"))
    font = find_cjk_font()
    rows.append(("cjk font", font is not None, font or missing_font_message()))
    children = state.get("children") if isinstance(state.get("children"), dict) else {}
    assert isinstance(children, dict)
    for name, child_pid in sorted(children.items()):
        if name.startswith("worker"):
            alive = psutil.pid_exists(int(child_pid))
            rows.append((name, alive, f"pid {child_pid}" + ("" if alive else " (gone)")))
    return rows
