"""Demo data for reports, monitoring and metrics: the applicant rates its outcomes and repays
once from a relative's account, compliance runs monitoring and takes an alert into
investigation, and this month's and last month's reports are archived."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from api.schemas import LoanOut
from cli.reports import ComplianceClient
from client.api import LoanBridgeClient, LoanBridgeError
from domain.calendar import business_today

DEMO_PASSWORD = "LoanBridge#2026"
RELATIVE_ACCOUNT = "6217000010099887766"  # a third party pays one installment
SCORES = {"disbursed": (5, "放款快，流程清楚"), "declined": (2, "拒绝理由不够具体")}


def _rate(applicant: LoanBridgeClient, loans: list[LoanOut]) -> int:
    rated = 0
    for loan in loans:
        score, comment = SCORES["disbursed"]
        try:
            applicant._request(
                "POST",
                f"/api/v1/applications/{loan.application_id}/rating",
                json={"score": score - rated % 2, "comment": comment},
            )
            rated += 1
        except LoanBridgeError:  # rated before (demo seeded twice) or no outcome yet
            continue
    return rated


def seed_reports(api_url: str) -> Iterator[str]:
    """Ratings, a third-party repayment, a monitoring pass with one alert under
    investigation, and archived monthly reports."""
    applicant = LoanBridgeClient(api_url, timeout_s=60)
    compliance = ComplianceClient(api_url, timeout_s=180)
    try:
        applicant.login("demo-verified", DEMO_PASSWORD)
        compliance.login("compliance", DEMO_PASSWORD)
        loans = applicant.list_loans()
        rated = _rate(applicant, loans)
        active = [loan for loan in loans if loan.status == "active"]
        if active:
            applicant._request(
                "POST",
                f"/api/v1/loans/{active[0].id}/payments",
                json={"amount": "500.00", "payer_account": RELATIVE_ACCOUNT},
                headers={"Idempotency-Key": "demo-third-party-payment"},
            )
        run = compliance.run_monitoring(90)
        alerts = compliance.alerts("open", None)
        if alerts:
            compliance.move_alert(alerts[0]["id"], "investigate", "演示：核实付款人身份")
        today = business_today()
        this_month = today.replace(day=1)
        last_month = (this_month - timedelta(days=1)).replace(day=1)
        archived = {(r["kind"], r["period_start"]) for r in compliance.reports("monthly")}
        reports = []
        for start in (last_month, this_month):
            if ("monthly", start.isoformat()) not in archived:
                reports.append(compliance.generate_report("monthly", start.isoformat()))
    except LoanBridgeError as exc:
        yield f"reports demo skipped: {exc.message_en}"
        return
    finally:
        applicant.close()
        compliance.close()
    yield f"ratings given by demo-verified: {rated}"
    yield (
        f"monitoring: {run['findings']} findings, {run['new_alerts']} new alerts "
        f"{run['by_rule']} (`loanbridge login --username compliance`, `loanbridge alerts list`)"
    )
    for report in reports:
        yield (
            f"report {report['label']} v{report['version']} archived, sha256 "
            f"{report['sha256'][:16]}… (`loanbridge report show {report['id']}`)"
        )
