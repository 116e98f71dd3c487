"""Every workflow class the worker runs, in one list (the worker and the replay tests share it)."""

from __future__ import annotations

from workflows.application import LoanApplicationWorkflow
from workflows.demand import FinancingDemandWorkflow
from workflows.institution import InstitutionOnboardingWorkflow
from workflows.loan import LoanServicingWorkflow
from workflows.monitoring import TransactionMonitoringWorkflow
from workflows.onboarding import EnterpriseOnboardingWorkflow
from workflows.policy import PolicyPushWorkflow
from workflows.portfolio import PortfolioSweepWorkflow
from workflows.reports import RegulatoryReportWorkflow
from workflows.rerating import CreditReratingWorkflow
from workflows.retention import DataRetentionWorkflow

ALL_WORKFLOWS: list[type] = [
    InstitutionOnboardingWorkflow,
    EnterpriseOnboardingWorkflow,
    FinancingDemandWorkflow,
    PolicyPushWorkflow,
    LoanApplicationWorkflow,
    LoanServicingWorkflow,
    PortfolioSweepWorkflow,
    RegulatoryReportWorkflow,
    TransactionMonitoringWorkflow,
    DataRetentionWorkflow,
    CreditReratingWorkflow,
]
