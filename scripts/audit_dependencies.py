"""Audit the installed environment with pip-audit: fail on a known vulnerability, warn in one
line (and pass) when no vulnerability service can be reached to audit anything."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SERVICES = ("pypi", "osv")  # PyPI's JSON API first, then OSV


def _audit(service: str) -> tuple[list[dict[str, Any]] | None, str]:
    """The dependency records of one pip-audit run, or None with the reason it failed."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        try:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip_audit",
                    "--skip-editable",
                    "--progress-spinner",
                    "off",
                    "--vulnerability-service",
                    service,
                    "--format",
                    "json",
                    "--output",
                    str(report),
                ],
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return None, f"{service}: no answer within 600 s"
        if not report.exists():
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            return None, f"{service}: {lines[-1] if lines else f'exit {done.returncode}'}"
        dependencies: list[dict[str, Any]] = json.loads(report.read_text())["dependencies"]
        return dependencies, ""


def main() -> int:
    reasons = []
    for service in SERVICES:
        dependencies, reason = _audit(service)
        if dependencies is None:
            reasons.append(reason)
            continue
        vulnerable = [d for d in dependencies if d.get("vulns")]
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixes = ", ".join(vuln.get("fix_versions") or []) or "no fix yet"
                print(f"pip-audit: {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
        if vulnerable:
            print(f"pip-audit: {len(vulnerable)} vulnerable packages: upgrade or pin them")
            return 1
        audited = [d for d in dependencies if "skip_reason" not in d]
        if audited:
            skipped = len(dependencies) - len(audited)
            print(
                f"pip-audit ({service}): {len(audited)} packages audited, no known "
                f"vulnerabilities ({skipped} not found on the index)"
            )
            return 0
        reasons.append(f"{service}: no package could be looked up")
    print(f"warning: pip-audit could not reach a vulnerability service ({'; '.join(reasons)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
