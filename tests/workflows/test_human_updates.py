"""Every Update of every workflow is accounted for: a person's decision names the
decision-log kinds it writes and the test that walks it on the real activities and finds each
entry, with its actor, in the verified chain; anything else says why it is not a decision.
A new Update fails here until someone decides which it is."""

from __future__ import annotations

from pathlib import Path

from temporalio import workflow

from workflows.registry import ALL_WORKFLOWS

TESTS = Path(__file__).resolve().parents[1]

APPLICATION_WALK = "integration/test_application_decision_log.py"
ONBOARDING_AND_DEMAND_WALK = "integration/test_human_decisions_logged.py"
LOAN_WALKS = ("lifecycle/test_servicing_lifecycle.py", "lifecycle/test_servicing_branches.py")

# (workflow type, Update) → the decision-log kinds it writes, and the tests that find them.
DECISIONS: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    # update-with-start: the person comes with the start (submitted_by), logged as it is recorded
    ("LoanApplicationWorkflow", "submission"): (("application.submitted",), (APPLICATION_WALK,)),
    ("FinancingDemandWorkflow", "submission"): (
        ("demand.submitted",),
        (ONBOARDING_AND_DEMAND_WALK,),
    ),
    ("LoanApplicationWorkflow", "decide_credit"): (
        (
            "credit.approved",  # each four-eyes approval its own entry
            "credit.counter_offered",
            "application.declined",
            "application.info_requested",
        ),
        (APPLICATION_WALK,),
    ),
    ("LoanApplicationWorkflow", "provide_information"): (
        ("application.materials_provided", "application.in_review"),
        (APPLICATION_WALK,),
    ),
    ("LoanApplicationWorkflow", "accept_offer"): (("offer.accepted",), (APPLICATION_WALK,)),
    ("LoanApplicationWorkflow", "refuse_offer"): (
        ("application.offer_refused",),
        (APPLICATION_WALK,),
    ),
    ("LoanApplicationWorkflow", "withdraw"): (("application.withdrawn",), (APPLICATION_WALK,)),
    ("EnterpriseOnboardingWorkflow", "confirm_otp"): (
        ("onboarding.otp_confirmed",),
        (ONBOARDING_AND_DEMAND_WALK,),
    ),
    ("EnterpriseOnboardingWorkflow", "resend_otp"): (
        ("onboarding.otp_resent",),
        (ONBOARDING_AND_DEMAND_WALK,),
    ),
    ("EnterpriseOnboardingWorkflow", "attach_document"): (
        ("onboarding.document_attached",),
        (ONBOARDING_AND_DEMAND_WALK,),
    ),
    ("EnterpriseOnboardingWorkflow", "decide_review"): (
        ("onboarding.verified", "onboarding.rejected"),
        (ONBOARDING_AND_DEMAND_WALK,),
    ),
    ("FinancingDemandWorkflow", "respond"): (("demand.answered",), (ONBOARDING_AND_DEMAND_WALK,)),
    ("FinancingDemandWorkflow", "select_products"): (
        ("demand.selected",),
        (ONBOARDING_AND_DEMAND_WALK,),
    ),
    ("FinancingDemandWorkflow", "withdraw"): (("demand.withdrawn",), (ONBOARDING_AND_DEMAND_WALK,)),
    ("LoanServicingWorkflow", "request_extension"): (("loan.extension_requested",), LOAN_WALKS),
    ("LoanServicingWorkflow", "decide_extension"): (
        ("loan.extension_approved", "loan.extension_declined"),
        LOAN_WALKS,
    ),
    ("LoanServicingWorkflow", "write_off"): (("loan.written_off",), LOAN_WALKS),
}

# Updates that are no one's decision, and where what they do is kept instead.
NOT_DECISIONS: dict[tuple[str, str], str] = {
    ("EnterpriseOnboardingWorkflow", "registration"): "update-with-start's answer: the "
    "recorded registration",
    ("LoanServicingWorkflow", "make_payment"): "money: payment_instruction under its key, the "
    "bank's payment, the loan transaction and its balanced journal",
    ("LoanServicingWorkflow", "prepay"): "money: as a payment, with the strategy in the "
    "transaction's memo",
    ("LoanServicingWorkflow", "pay_off"): "money: as a payment; the loan closes",
    ("LoanApplicationWorkflow", "request_acceptance_code"): "a code texted to the legal "
    "representative: signing_challenge keeps its hash, expiry and attempts; the signature's "
    "outcome is logged by accept_offer's verify_signer (offer.signed, offer.signature_refused)",
}


def _updates() -> set[tuple[str, str]]:
    found = set()
    for cls in ALL_WORKFLOWS:
        definition = workflow._Definition.from_class(cls)
        assert definition is not None and definition.name is not None
        found |= {(definition.name, str(name)) for name in definition.updates}
    return found


def test_every_update_is_a_logged_decision_or_says_why_it_is_not() -> None:
    updates = _updates()
    assert set(DECISIONS).isdisjoint(NOT_DECISIONS)
    assert updates - DECISIONS.keys() - NOT_DECISIONS.keys() == set(), "classify the new Update"
    assert (DECISIONS.keys() | NOT_DECISIONS.keys()) - updates == set(), "a removed Update"


def test_every_decision_kind_is_found_by_a_walk_on_the_real_activities() -> None:
    """Each kind is asserted, by name, in a test that drives the Update through the real
    worker and activities and reads the entry back from the verified chain."""
    for (workflow_type, update), (kinds, walks) in DECISIONS.items():
        text = "".join((TESTS / walk).read_text(encoding="utf-8") for walk in walks)
        missing = [kind for kind in kinds if f'"{kind}' not in text]
        assert missing == [], f"{workflow_type}.{update}: no walk finds {missing}"
