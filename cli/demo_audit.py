"""Demo data for the compliance audit: a first decision-log checkpoint and the story of the
demo applicant, read back as the compliance auditor sees it."""

from __future__ import annotations

from collections.abc import Iterator

from cli.audit import AuditClient
from client.api import LoanBridgeClient, LoanBridgeError

DEMO_PASSWORD = "LoanBridge#2026"


def seed_audit(api_url: str) -> Iterator[str]:
    """Verify the decision log as ``compliance`` (recording its head as the first checkpoint)
    and read demo-verified's enterprise story, so ``loanbridge audit show`` has a ready case."""
    applicant = LoanBridgeClient(api_url, timeout_s=60)
    auditor = AuditClient(api_url, timeout_s=120)
    try:
        applicant.login("demo-verified", DEMO_PASSWORD)
        auditor.login("compliance", DEMO_PASSWORD)
        enterprise_id = applicant.my_enterprise().id
        report = auditor.verify(checkpoint=True)
        story = auditor.timeline(f"enterprise-{enterprise_id}", children=True)
    except LoanBridgeError as exc:
        yield f"audit demo skipped: {exc.message_en}"
        return
    finally:
        applicant.close()
        auditor.close()
    entries = sum(len(w["entries"]) for w in story["workflows"])
    yield (
        f"decision log verified: {report['entries']} entries, intact={report['intact']}, "
        "checkpoint recorded"
    )
    yield (
        f"audit story of enterprise-{enterprise_id}: {len(story['workflows'])} workflows, "
        f"{entries} timeline entries (`loanbridge login --username compliance`, then "
        f"`loanbridge audit show enterprise-{enterprise_id}`)"
    )
