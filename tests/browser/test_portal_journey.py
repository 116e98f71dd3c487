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
from tests.browser.conftest import Workbench
from tests.browser.portal_steps import (
    VIEWPORTS,
    Shots,
    accept_by_keyboard,
    answer_with_a_file,
    apply_with_statements,
    compare,
    correct_and_resubmit,
    open_loan,
    pay_installment,
    pay_off,
    portal_page,
    post_demand,
    read_the_offer,
    register,
    request_extension,
    see_disbursement,
    see_extension_approved,
    see_matched,
    see_verified,
    upload_documents,
)
from tests.integration.origination_support import lender
from tests.integration.test_onboarding_api import (
    new_id_number,
    new_mobile,
    new_uscc,
    registration_body,
)
from tests.integration.test_portal_loans import decide_extension
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_one_enterprise_goes_from_registration_to_payoff_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    platform = workbench.platform
    bank = await lender(platform)
    uscc, mobile, id_number = new_uscc(), new_mobile(), new_id_number()
    body = registration_body(uscc, id_number, mobile)
    legal_rep = enterprise_record(uscc).legal_representative
    body["legal_representative"]["name"] = legal_rep + "不符"  # the bureau answers MISMATCH
    page = await portal_page(workbench, viewport)
    shot = Shots(workbench, page, f"journey-{viewport}")

    # Registration, rejected for the name, corrected in the portal, verified.
    await register(page, shot, sandbox, body)
    await upload_documents(page, shot)
    await correct_and_resubmit(page, shot, legal_rep)
    await see_verified(page, shot)

    # Origination: demand, match, comparison, application, question, offer, money.
    await page.get_by_role("link", name="首页", exact=True).first.click()
    demand_id = await post_demand(page, shot)
    await see_matched(page, shot, bank, demand_id)
    await compare(page, shot)
    app_id = await apply_with_statements(page, shot, bank)
    await answer_with_a_file(page, shot, bank, app_id)
    await read_the_offer(page, shot, bank, app_id)
    await accept_by_keyboard(page, shot, sandbox, mobile, legal_rep)
    await see_disbursement(page, shot)

    # The loan: an installment, an extension the lender approves, the payoff.
    loan_id = await open_loan(page, shot)
    await pay_installment(page, shot)
    await request_extension(page, shot)
    await decide_extension(platform, bank.officer, loan_id, True, "经营正常，同意展期")
    await see_extension_approved(page, shot)
    await pay_off(page, shot)
    await shot("loan-closed")
    await page.context.close()
    assert shot.taken == 31, shot.taken
    assert shot.found == {}, shot.found  # axe-core: no serious or critical violation on any step
