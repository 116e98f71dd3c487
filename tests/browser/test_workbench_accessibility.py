"""Every staff workbench page passes axe-core over the demo data, and its main forms work by
keyboard alone.

The demo is seeded (as ``loanbridge up --demo`` does) and each demo staff role logs in once, in
one browser context, on the one served workbench. From its start pages the role follows the
links on each page to every workbench page it can open (one page per route: one list, one case
of each kind, one form), runs axe-core on it (no serious or critical violation) and saves
tests/browser/artifacts/workbench-<role>-<page>.png. The pages come from the workbench's own
routers: a GET route that no role reached and that is not excused below (a redirect or a file,
with the reason) fails the test, so a new page cannot be forgotten.

The keyboard check tabs through the login form, an officer's decision on a referred case and
an answer to a published demand: focus reaches each field and the submit button in order, and
Enter (or Space on the button) posts the form."""

from __future__ import annotations

import re
import uuid
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute
from playwright.async_api import Page, Request, expect

from cli.demo import DEMO_PASSWORD
from tests.browser.conftest import Workbench, serious_violations
from tests.integration.demo_support import seed_served
from tests.support import SandboxProcess
from web import workbench_routers
from web.core import WORKBENCH

pytestmark = pytest.mark.integration

PREFIX = WORKBENCH.prefix
# Each demo staff role and where it starts (its home and the pages its menu names); the crawl
# finds the rest by the links on the pages. WeBank's officer has the demo's demand still to
# answer (ICBC Shenzhen answered it), the platform admin the verification reviews.
ROLES: dict[str, tuple[str, ...]] = {
    "icbc-sz-officer": ("/inbox", "/inbox?kind=extension_approval", "/alerts", "/demands"),
    "icbc-sz-supervisor": ("/inbox", "/alerts"),
    "webank-officer": ("/demands",),
    "icbc-sz-admin": ("/admin/products", "/admin/officers", "/alerts", "/demands"),
    "compliance": (
        "/compliance",
        "/compliance?workflow_type=LoanApplicationWorkflow",
        "/compliance/verify",
        "/compliance/monitoring",
    ),
    "regulator": ("/regulator", "/regulator/reports", "/compliance/monitoring"),
    "admin": ("/inbox", "/inbox?kind=verification_review"),
}
# Workbench GET routes that are not pages, and why no role visits them for axe-core.
EXCUSED = {
    "/": "redirects to the role's home",
    "/home": "redirects to the role's home",
    "/lang/{code}": "sets the language and redirects back",
    "/extensions": "redirects to the inbox's extension approvals",
    "/applications/{application_id}/documents/{document_id}": "a document download, not a page",
    "/applications/{application_id}/materials/{material_id}": (
        "an applicant's file (the case page frames it; a spreadsheet downloads), not a page"
    ),
    "/compliance/timeline.pdf": "the timeline as a PDF download",
    "/regulator/reports/{report_id}/{form}": "a report as a PDF or CSV download",
}
# The error page: a case that is not there (a page of its own, reached by no link).
NOT_FOUND = f"{PREFIX}/applications/{uuid.UUID(int=0)}"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")
MAX_TRIES_PER_ROUTE = 4  # a task link may open its case (a redirect): a few tries for a task page


def _routes() -> dict[str, re.Pattern[str]]:
    """The workbench's GET routes: path template and its pattern (relative to the prefix)."""
    return {
        route.path: route.path_regex
        for router in workbench_routers()
        for route in router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or set())
    }


ROUTES = _routes()
assert ROUTES, "no workbench GET route found"


def _route_of(path: str) -> str | None:
    """The route a workbench path (with the prefix) is served by."""
    if not path.startswith(f"{PREFIX}/") and path != PREFIX:
        return None
    local = path[len(PREFIX) :] or "/"
    return next((name for name, regex in ROUTES.items() if regex.match(local)), None)


def _page_name(route: str, url: str) -> str:
    """A screenshot's name: the route without its ids, and the query's values (``inbox``,
    ``inbox-extension-approval``, ``applications``, ``admin-products-edit``)."""
    words = [part for part in route.split("/") if part and not part.startswith("{")]
    query = urlsplit(url).query
    values = [value for pair in query.split("&") if pair for value in pair.split("=")[1:]]
    words += [value for value in values if not _UUID.search(value)]
    return "-".join(re.sub(r"[^a-z0-9]+", "-", word.lower()).strip("-") for word in words)


@dataclass
class Checked:
    """What the crawl saw: pages per role, their violations, and the routes covered."""

    pages: dict[str, list[str]] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=dict)
    routes: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)


async def _check(workbench: Workbench, page: Page, who: str, name: str, checked: Checked) -> None:
    await workbench.shot(page, f"workbench-{who}-{name}")
    if problems := await serious_violations(page):
        checked.violations[f"{who} {page.url}"] = problems
    checked.pages.setdefault(who, []).append(urlsplit(page.url).path)


@dataclass
class Sessions:
    """One browser context per demo role, logged in once for the whole module."""

    workbench: Workbench
    pages: dict[str, Page] = field(default_factory=dict)

    async def page(self, username: str) -> Page:
        if username not in self.pages:
            page = await self.workbench.login(username, DEMO_PASSWORD)
            assert "/login" not in page.url, f"{username} could not log in"
            self.pages[username] = page
        return self.pages[username]


@pytest.fixture(scope="module")
async def sessions(workbench: Workbench, sandbox: SandboxProcess) -> AsyncIterator[Sessions]:
    """The demo seeded through the served workbench's API (each step skips what an earlier
    seed in this session made), and the roles' logins."""
    await seed_served(workbench.base_url, workbench.platform, sandbox)
    logged_in = Sessions(workbench)
    yield logged_in
    for page in logged_in.pages.values():
        await page.context.close()


async def _crawl(sessions: Sessions, username: str, checked: Checked) -> Page:
    """Each route the role's links reach, opened once and checked."""
    workbench = sessions.workbench
    page = await sessions.page(username)
    done: set[str] = set()
    tries: dict[str, int] = {}
    queue = deque(f"{PREFIX}{start}" for start in ROLES[username])
    seen: set[str] = set()
    while queue:
        url = queue.popleft()
        route = _route_of(urlsplit(url).path)
        if url in seen or route is None or route in EXCUSED:
            continue
        if route in done and url.split(PREFIX, 1)[1] not in ROLES[username]:
            continue
        if tries.get(route, 0) >= MAX_TRIES_PER_ROUTE:
            continue
        seen.add(url)
        tries[route] = tries.get(route, 0) + 1
        response = await page.goto(url)
        if response is None or response.status != 200:
            checked.failures[f"{username} {url}"] = str(response and response.status)
            continue
        landed = _route_of(urlsplit(page.url).path)
        if landed is None or (landed in done and landed != route):
            continue  # a task that opened a case already checked
        done.add(landed)
        checked.routes.add(landed)
        await _check(workbench, page, username, _page_name(landed, page.url), checked)
        hrefs = await page.eval_on_selector_all(
            "a[href]", "links => links.map(a => a.pathname + a.search)"
        )
        queue.extend(str(href) for href in hrefs)
    return page


async def test_every_workbench_page_passes_axe(sessions: Sessions) -> None:
    workbench = sessions.workbench
    checked = Checked()
    page = await workbench.new_page()
    await page.goto(f"{PREFIX}/login")
    await _check(workbench, page, "anonymous", "login", checked)
    await page.goto(f"{PREFIX}/lang/en?next={PREFIX}/login")  # the page in English as well
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await _check(workbench, page, "anonymous", "login-en", checked)
    await page.context.close()
    checked.routes.add("/login")
    for username in ROLES:
        page = await _crawl(sessions, username, checked)
        if username == "icbc-sz-officer":
            response = await page.goto(NOT_FOUND)
            assert response is not None and response.status == 404
            await _check(workbench, page, username, "not-found", checked)
    counts = {who: len(pages) for who, pages in checked.pages.items()}
    print(f"axe-core checked {sum(counts.values())} workbench pages: {counts}")
    assert checked.failures == {}, checked.failures
    forgotten = set(ROUTES) - checked.routes - set(EXCUSED)
    assert forgotten == set(), f"pages no role reached (visit or excuse them): {forgotten}"
    assert checked.violations == {}, "\n".join(
        f"{where}: {problem}"
        for where, problems in checked.violations.items()
        for problem in problems
    )


async def _fill_by_tab(page: Page, fields: dict[str, str], limit: int = 80) -> list[str]:
    """Press Tab from the top of the page, typing each field's text when it has focus, until
    the last field (the button) has focus; the fields in the order focus reached them."""
    selectors = list(fields)
    reached: list[str] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        index = await page.evaluate(
            "all => all.findIndex(f => document.querySelector(f) === document.activeElement)",
            selectors,
        )
        if index < 0 or selectors[index] in reached:
            continue
        reached.append(selectors[index])
        if fields[selectors[index]]:
            await page.keyboard.type(fields[selectors[index]])
        if index == len(selectors) - 1:
            break
    return reached


async def _submit_by_key(page: Page, key: str, action: str) -> None:
    """Press ``key`` on the focused button: the form posts once to a URL ending in ``action``
    and the answer is opened."""
    posted: list[Request] = []

    def post(request: Request) -> None:
        if request.method == "POST" and request.url.endswith(action):
            posted.append(request)

    page.on("request", post)
    async with page.expect_navigation():
        await page.keyboard.press(key)
    page.remove_listener("request", post)
    assert len(posted) == 1, posted


async def test_login_by_keyboard(sessions: Sessions) -> None:
    """Tab to the username, the password and the button; Enter on the button logs in."""
    page = await sessions.workbench.new_page()
    await page.goto(f"{PREFIX}/login")
    fields = {
        "#username": "icbc-sz-supervisor",
        "#password": DEMO_PASSWORD,
        "form.stack button[type=submit]": "",
    }
    assert await _fill_by_tab(page, fields) == list(fields)
    await _submit_by_key(page, "Enter", "/login")
    await expect(page).to_have_url(re.compile(r"/web/inbox$"))
    if "icbc-sz-supervisor" in sessions.pages:  # the crawl logged in first
        await page.context.close()
    else:
        sessions.pages["icbc-sz-supervisor"] = page


async def test_deciding_a_case_by_keyboard(sessions: Sessions) -> None:
    """On a referred application: the decision, its terms, the reason and the button are
    reached by Tab in order; Enter posts the decision (a rate that is not a number, so the
    demo's case stays open for the next reader), and the refusal names the field."""
    page = await sessions.page("icbc-sz-officer")
    await page.goto(f"{PREFIX}/inbox?kind=credit_approval")
    await page.locator("#tasks a[href*='/tasks/']").first.click()
    await expect(page.locator("#decision-form")).to_be_visible()
    fields = {
        "#action": "",  # approve, as chosen
        "#amount": "",
        "#rate": "4,2%",
        "#term_months": "12",
        "#reason": "按键盘操作",
        "#submit-decision": "",
    }
    assert await _fill_by_tab(page, fields) == list(fields)
    await _submit_by_key(page, "Enter", "/decision")
    await expect(page.locator("ul.alert.error")).to_contain_text("格式不正确")
    await expect(page.locator("#rate")).to_have_value("4,2%")  # kept for correcting
    await sessions.workbench.shot(page, "workbench-keyboard-decision-refused")
    assert await serious_violations(page) == []


async def test_answering_a_demand_by_keyboard(sessions: Sessions) -> None:
    """On a published demand: interest, rate, amount, reason and the button are reached by Tab
    in order; Space on the button posts the answer (a rate that is not a number: the demo's
    demand stays open), and the refusal is shown."""
    page = await sessions.page("webank-officer")
    await page.goto(f"{PREFIX}/demands")
    form = "section.demand form"
    await expect(page.locator(form).first).to_be_visible()
    fields = {
        f"{form} input[name=interested][value=yes]": "",  # interested, as checked
        f"{form} input[name=rate]": "三点五",
        f"{form} input[name=amount]": "600000",
        f"{form} input[name=reason]": "按键盘操作",
        f"{form} button[type=submit]": "",
    }
    assert await _fill_by_tab(page, fields) == list(fields)
    await _submit_by_key(page, " ", "/answer")
    await expect(page.locator("p.alert.error")).to_be_visible()
    await sessions.workbench.shot(page, "workbench-keyboard-demand-refused")
    assert await serious_violations(page) == []
