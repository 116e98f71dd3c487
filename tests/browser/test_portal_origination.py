"""The applicant portal's origination journey in headless Chromium, on a phone (390×844) and on a
desktop (1280×900): an owner posts a financing demand (a field refused as they type, then
corrected), sees the lender's product matched with its reasons and the lender's answer, compares
the offers, applies for the product with its statements as a file, answers the credit
officer's question with a file, reads the offer letter in the page, accepts it — by keyboard
alone — with the signing code texted to the legal representative and sees the disbursement.
The lender's side is driven through the API. Each step is saved as
tests/browser/artifacts/origination-<viewport>-<nn>-<step>.png
and checked by axe-core (no serious or critical violation) and for sideways scrolling."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Workbench
from tests.browser.portal_steps import (
    VIEWPORTS,
    Shots,
    accept_by_keyboard,
    answer_with_a_file,
    apply_with_statements,
    compare,
    log_in,
    portal_page,
    post_demand,
    read_the_offer,
    see_disbursement,
    see_matched,
)
from tests.integration.origination_support import lender_and_applicant
from tests.support import SandboxProcess

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
async def test_an_owner_goes_from_a_demand_to_the_money_in_the_browser(
    workbench: Workbench, sandbox: SandboxProcess, viewport: str
) -> None:
    case = await lender_and_applicant(workbench.platform, sandbox)
    page = await portal_page(workbench, viewport)
    shot = Shots(workbench, page, f"origination-{viewport}")

    await log_in(page, case.username)
    demand_id = await post_demand(page, shot)
    await see_matched(page, shot, case, demand_id)
    await compare(page, shot)
    app_id = await apply_with_statements(page, shot, case)
    await answer_with_a_file(page, shot, case, app_id)
    await read_the_offer(page, shot, case, app_id)
    await accept_by_keyboard(page, shot, sandbox, case.mobile, case.legal_rep_name)
    await see_disbursement(page, shot)
    await page.context.close()
    assert shot.found == {}, shot.found  # axe-core: no serious or critical violation on any step
