"""One enterprise's whole journey in the applicant portal, in headless Chromium, on a phone
(390×844) and on a desktop (1280×900): it registers with a legal representative's name the
identity bureau does not match, uploads its verification documents and is rejected, reads why,
corrects the name and resubmits, is verified; posts a demand, sees the lender's product matched
and answered, compares, applies with its statements as a file, answers the officer's question
with a file, reads the offer letter, accepts it with the signing code, sees the disbursement;
pays an installment, requests an extension the lender's officer approves, asks for a payoff
quote and pays the loan off (the loan closed). The lender's side is driven through the API.
Every step is saved as tests/browser/artifacts/journey-<viewport>-<nn>-<step>.png, fits the
screen and is checked by axe-core (no serious or critical violation). The steps are those of
the other portal browser tests, written once in tests/browser/portal_steps.py."""

from __future__ import annotations

import pytest

from sandbox.registry import enterprise_record
from tests.browser import portal_steps as steps
from tests.browser.conftest import Workbench
from tests.integration.origination_support import lender
from tests.integration.test_portal_loans import decide_extension
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("viewport", list(steps.VIEWPORTS))
async def test_one_enterprise_goes_from_registration_to_payoff_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    platform = workbench.platform
    bank = await lender(platform)
    body = steps.new_registration()
    mobile = body["legal_representative"]["mobile"]
    legal_rep = enterprise_record(body["enterprise"]["uscc"]).legal_representative
    body["legal_representative"]["name"] = legal_rep + "不符"  # the bureau answers MISMATCH
    page = await steps.portal_page(workbench, viewport)
    shot = steps.Shots(workbench, page, f"journey-{viewport}")

    # Registration, rejected for the name, corrected in the portal, verified.
    await steps.register(page, shot, sandbox, body)
    await steps.upload_documents(page, shot)
    await steps.correct_and_resubmit(page, shot, legal_rep)
    await steps.see_verified(page, shot)

    # Origination: demand, match, comparison, application, question, offer, money.
    await page.get_by_role("link", name="首页", exact=True).first.click()
    demand_id = await steps.post_demand(page, shot)
    await steps.see_matched(page, shot, bank, demand_id)
    await steps.compare(page, shot)
    app_id = await steps.apply_with_statements(page, shot, bank)
    await steps.answer_with_a_file(page, shot, bank, app_id)
    await steps.read_the_offer(page, shot, bank, app_id)
    await steps.accept_by_keyboard(page, shot, sandbox, mobile, legal_rep)
    await steps.see_disbursement(page, shot)

    # The loan: an installment, an extension the lender approves, the payoff.
    loan_id = await steps.open_loan(page, shot)
    await steps.pay_installment(page, shot)
    await steps.request_extension(page, shot)
    await decide_extension(platform, bank.officer, loan_id, True, "经营正常，同意展期")
    await steps.see_extension_approved(page, shot)
    await steps.pay_off(page, shot)
    await shot("loan-closed")
    await page.context.close()
    assert shot.taken == 31, shot.taken
    assert shot.found == {}, shot.found  # axe-core: no serious or critical violation on any step
