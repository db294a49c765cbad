"""The look-up page in a real browser: headless Debian Chromium, driven by Playwright (its
``executable_path``; no browser download), against a real ``cms-pricing serve`` on a copy of
the session's database, with every host name but 127.0.0.1 unresolvable (a CDN reference
would fail to load).

Each test reads what a person would read off the page and compares it with the API's answer
for the same question; each step leaves a screenshot in ``var/artefacts/web/``. Chromium
missing is a failure, not a skip (`.ci/run` installs it). Every page must log nothing to the
console (no CSP violation, no failed load, no script error).
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from servers import REPO_ROOT, Server, copy_database, get, new_key, serve, serve_copy

ARTEFACTS = REPO_ROOT / "var" / "artefacts" / "web"
# A plan is priced by the worker's expensive-work child, which may still be loading its data
# right after the server starts (CMS_PRICING_EXPENSIVE_WARM): the first plan may wait for it.
PLAN_WAIT_MS = 90_000
expect.set_options(timeout=15_000)
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
TWENTY = [
    "99202",
    "99203",
    "99204",
    "99205",
    "99211",
    "99212",
    "99213",
    "99214",
    "99215",
    "99221",
    "99222",
    "99223",
    "99231",
    "99232",
    "99233",
    "99283",
    "99285",
    "36415",
    "80053",
    "45378",
]
# CSV rows checked against the API: (code, schedule) -> the same question to /codes/price.
CHECKED = {
    ("99213", "mpfs"): "/codes/price?code=99213&zip=10001",
    ("45378", "mpfs"): "/codes/price?code=45378&zip=10001",
    ("80053", "clfs"): "/codes/price?schedule=clfs&code=80053",
    ("45378", "opps"): "/codes/price?schedule=opps&code=45378",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, ingested_url: str) -> Iterator[Server]:
    """`cms-pricing serve` (one worker) on a private copy of the ingested database."""
    with serve_copy(ingested_url, tmp_path_factory.mktemp("lookup-browser")) as server:
        yield server


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium is not None, "chromium is not installed: apt-get install -y chromium"
    launched = playwright.chromium.launch(executable_path=chromium, args=ARGS)
    yield launched
    launched.close()


class Watched:
    """A page and what it logged: console messages, page errors and failed requests."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.name = name
        self.logged: list[str] = []
        self.steps = 0
        page.on("console", lambda m: self.logged.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.logged.append(f"error: {e}"))
        page.on("requestfailed", lambda r: self.logged.append(f"failed: {r.url}"))

    def shot(self, step: str) -> Path:
        """A full-page screenshot of this step, kept as a test artefact."""
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        self.steps += 1
        path = ARTEFACTS / f"{self.name}-{self.steps:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def watched(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower()).strip("-")
    yield Watched(page, name)
    context.close()


def money(amount: str) -> str:
    """The page's form of a decimal amount: ``$1,234.56``."""
    return f"${Decimal(amount):,.2f}"


def ask(page: Page, codes: str, where: str) -> None:
    page.get_by_label("Codes").fill(codes)
    page.get_by_label("ZIP or locality").fill(where)
    page.get_by_role("button", name="Price", exact=True).click()


def amount_cell(page: Page, code: str, schedule: str = "mpfs") -> str:
    row = page.locator(f'#results-table tr[data-code="{code}"][data-schedule="{schedule}"]')
    return row.locator("td.amount").inner_text()


def post_json(url: str, body: dict[str, Any]) -> dict[str, Any]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_first_render_is_fast_and_quiet(served: Server, watched: Watched) -> None:
    """The page is interactive (its script ran) in under a second on loopback, loading only
    its own three assets, and logs nothing."""
    page = watched.page
    loaded: list[str] = []
    page.on("requestfinished", lambda r: loaded.append(r.url))
    page.goto(served.url("/"))
    page.wait_for_selector("body.ready")
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " const p = performance.getEntriesByName('first-contentful-paint')[0];"
        " return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
        " paint: p ? p.startTime : null}; }"
    )
    watched.shot("first-render")
    assert timing["dom"] < 1000 and timing["load"] < 1000, timing
    assert timing["paint"] is None or timing["paint"] < 1000, timing
    assert all(url.startswith(served.base) for url in loaded)
    assert {url.rsplit("/", 1)[1] for url in loaded} >= {"lookup.js", "lookup.css"}
    assert watched.logged == []


def test_a_price_read_off_the_page_is_the_apis(served: Server, watched: Watched) -> None:
    """99213 at ZIP 94110: the amount, arithmetic and status on the page are the API's; the
    detail shows every schedule, the three sites and a bar for each of the 109 localities."""
    page = watched.page
    page.goto(served.url("/lookup"))
    ask(page, "99213", "94110")
    expect(page.locator("#status")).to_contain_text("Priced 1 of 1")
    watched.shot("priced")
    status, answer, _ = get(served.url("/codes/price?code=99213&zip=94110&setting=office"))
    assert status == 200
    assert amount_cell(page, "99213") == money(answer["amount"])
    row = page.locator('#results-table tr[data-code="99213"][data-schedule="mpfs"]')
    assert answer["components"]["arithmetic"] in row.inner_text()
    assert f"{answer['status']}: {answer['status_reason']}" in row.inner_text()
    expect(page.locator("#chart rect.bar")).to_have_count(109)
    expect(page.locator("#chart rect.here")).to_have_count(1)
    sites = page.locator("#sites tr[data-site]")
    expect(sites).to_have_count(3)
    _, by_site, _ = get(served.url("/codes/99213/sites?zip=94110"))
    office = next(s for s in by_site["sites"] if s["site"] == "office")
    expect(page.locator('#sites tr[data-site="office"] .site-total')).to_have_text(
        money(office["total"])
    )
    expect(page.locator("#ama")).to_be_hidden()  # descriptors are off: no notice, no descriptor
    expect(page.locator(".descriptor")).to_have_count(0)
    page.locator("#areas summary").click()
    watched.shot("detail")
    assert watched.logged == []


def test_twenty_pasted_codes_and_their_csv(served: Server, watched: Watched) -> None:
    """Twenty codes pasted as a spreadsheet column (with a header cell and blank lines) are
    priced in one go; the CSV downloaded holds every row of the table, with the API's cents."""
    page = watched.page
    page.goto(served.url("/"))
    page.get_by_label("Codes").focus()
    page.keyboard.insert_text("\n".join(["", *TWENTY[:10], "", *TWENTY[10:], ""]))  # a paste
    page.get_by_label("ZIP or locality").fill("10001")
    page.get_by_label("ZIP or locality").press("Enter")
    expect(page.locator("#status")).to_contain_text("Priced 20 of 20", timeout=30_000)
    watched.shot("twenty")
    codes = page.locator("#results-table tbody tr").evaluate_all(
        "rows => [...new Set(rows.map(r => r.dataset.code))]"
    )
    assert codes == TWENTY
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    saved = ARTEFACTS / "twenty.csv"
    info.value.save_as(saved)
    with saved.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == page.locator("#results-table tbody tr").count()
    assert [r["code"] for r in rows if r["schedule"] == "mpfs"][:3] == TWENTY[:3]
    assert "description" not in rows[0]  # descriptors are off
    checked = [r for r in rows if (r["code"], r["schedule"]) in CHECKED]
    assert len(checked) == len(CHECKED)
    for row in checked:
        query = CHECKED[row["code"], row["schedule"]]
        assert int(row["amount_cents"]) == get(served.url(query))[1]["amount_cents"]
    assert watched.logged == []


def test_a_plan_is_built_and_priced(served: Server, watched: Watched) -> None:
    """Two procedures put into the plan builder, a modifier added: the plan's allowed total
    and each line's adjustment are those of ``POST /plans/price`` for the same plan."""
    page = watched.page
    page.goto(served.url("/"))
    ask(page, "27447 29881", "94110")
    expect(page.locator("#status")).to_contain_text("Priced 2 of 2")
    page.get_by_role("button", name="Put these codes in the plan").click()
    page.get_by_label("Modifiers, line 2").fill("51")
    watched.shot("plan-lines")
    page.get_by_role("button", name="Price the plan").click()
    expect(page.locator("#plan-status")).to_contain_text("The plan is priced", timeout=PLAN_WAIT_MS)
    watched.shot("plan-priced")
    plan = {"zip": "94110", "setting": "office", "lines": [
        {"code": "27447", "schedule": "mpfs", "modifiers": [], "units": 1},
        {"code": "29881", "schedule": "mpfs", "modifiers": ["51"], "units": 1}]}  # fmt: skip
    answer = post_json(served.url("/plans/price"), plan)
    totals = page.locator("#plan-result dl.totals")
    assert money(answer["totals"]["allowed"]) in totals.inner_text()
    assert money(answer["cost_sharing"]["program_paid"]) in totals.inner_text()
    allowed = page.locator("#plan-table td.plan-allowed").all_inner_texts()
    assert allowed == [money(line["allowed"]) for line in answer["lines"]]
    explanation = answer["lines"][1]["adjustments"][0]["explanation"]
    assert explanation in page.locator("#plan-table").inner_text()
    assert watched.logged == []


@pytest.mark.parametrize(
    ("where", "message"),
    [("00000", "ZIP 00000 is not in"), ("9411x", "zip must be 5 digits")],
)
def test_a_bad_zip_is_shown_on_its_field(
    served: Server, watched: Watched, where: str, message: str
) -> None:
    """A ZIP the file does not hold, or one that is not a ZIP, shows the API's message in an
    alert, marks the field invalid and moves the focus to it; no result is shown."""
    page = watched.page
    page.goto(served.url("/"))
    ask(page, "99213", where)
    alert = page.get_by_role("alert").filter(has_text="Cannot price")
    expect(alert).to_contain_text(message)
    watched.shot("error")
    field = page.get_by_label("ZIP or locality")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    expect(page.locator("#results")).to_be_hidden()
    # the browser logs the API's 4xx answers as failed loads; nothing else may appear
    assert [m for m in watched.logged if "status of 4" not in m] == []


def test_keyboard_only(served: Server, watched: Watched) -> None:
    """Everything by keyboard: the skip link first, the fields in order, Enter submits, a
    Details button opens the code's detail and moves the focus to its heading."""
    page = watched.page
    page.goto(served.url("/"))
    page.keyboard.press("Tab")
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Codes")).to_be_focused()
    page.keyboard.type("99213 99214")
    page.keyboard.press("Tab")
    expect(page.get_by_label("ZIP or locality")).to_be_focused()
    page.keyboard.type("0111205")
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_contain_text("Priced 2 of 2")
    details = page.get_by_role("button", name="Show details of 99214")
    details.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#detail-heading")).to_be_focused()
    expect(page.locator("#detail-heading")).to_contain_text("99214 in detail")
    watched.shot("keyboard")
    assert watched.logged == []


def test_accessible_and_readable_at_200_percent(served: Server, browser: Browser) -> None:
    """axe-core finds no violation on the page with results, detail and a priced plan; at
    200% zoom (a 1280-pixel screen is 640 CSS pixels wide) nothing overflows sideways."""
    for width, scale, name in ((1280, 1, "axe-100"), (640, 2, "axe-200")):
        context = browser.new_context(viewport={"width": width, "height": 900},
                                      device_scale_factor=scale)  # fmt: skip
        page = context.new_page()
        page.goto(served.url("/?codes=99213,45378,E0601&where=94110"))
        expect(page.locator("#chart rect.bar").first).to_be_attached(timeout=15_000)
        page.get_by_role("button", name="Put these codes in the plan").click()
        page.get_by_role("button", name="Price the plan").click()
        expect(page.locator("#plan-table")).to_be_visible(timeout=PLAN_WAIT_MS)
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
        result = Axe().run(page)
        (ARTEFACTS / f"{name}.txt").write_text(result.generate_report())
        assert result.violations_count == 0, result.generate_report()
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        context.close()


def use_key(page: Page, key: str) -> None:
    field = page.get_by_role("textbox", name="API key")
    expect(field).to_be_focused()
    field.fill(key)
    page.get_by_role("button", name="Use this key").click()


def test_keys_are_asked_for_and_kept_for_the_tab_only(
    tmp_path: Path, ingested_url: str, browser: Browser
) -> None:
    """With keys required the page asks for one at once; a wrong key (401) and a key without
    the plan's scope (403) make it ask again and retry; the key lives in sessionStorage only
    (not localStorage, not a cookie): the tab keeps it across a reload, another tab has none."""
    url = copy_database(ingested_url, tmp_path)
    reader = new_key(url, "read", name="look-up page, read")
    planner = new_key(url, "read", "bulk", name="look-up page, plans")
    env = {"DATABASE_URL": url, "CMS_DATA_DIR": "", "CMS_PRICING_REQUIRE_KEYS": "true"}
    with serve(env, tmp_path / "serve.log", workers=1) as server:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(server.url("/"))
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "keys-01-asked.png"), full_page=True)
        use_key(page, "cmsk_not-a-key")
        ask(page, "99213", "94110")
        expect(page.locator("#key-panel")).to_be_visible()  # 401: asked again
        page.screenshot(path=str(ARTEFACTS / "keys-02-refused.png"), full_page=True)
        use_key(page, reader)  # the refused request is retried with it
        expect(page.locator("#status")).to_contain_text("Priced 1 of 1")
        page.get_by_role("button", name="Put these codes in the plan").click()
        page.get_by_role("button", name="Price the plan").click()
        expect(page.locator("#key-panel")).to_be_visible()  # 403: plans need bulk
        expect(page.locator("#key-why")).to_contain_text("bulk")
        use_key(page, planner)
        expect(page.locator("#plan-status")).to_contain_text(
            "The plan is priced", timeout=PLAN_WAIT_MS
        )
        page.screenshot(path=str(ARTEFACTS / "keys-03-plan.png"), full_page=True)
        stored = page.evaluate(
            "() => [sessionStorage.getItem('cms-pricing-api-key'), localStorage.length]"
        )
        assert stored == [planner, 0]
        assert context.cookies() == []
        page.reload()  # the same tab keeps the key: no second question
        expect(page.locator("#key-panel")).to_be_hidden()
        fresh = context.new_page()  # another tab does not have it
        fresh.goto(server.url("/"))
        expect(fresh.locator("#key-panel")).to_be_visible()
        context.close()


def test_descriptors_come_with_the_ama_notice(
    ingested_url: str, tmp_path: Path, browser: Browser
) -> None:
    """With ``CMS_PRICING_SERVE_DESCRIPTORS`` on, each code shows its descriptor, the CSV
    carries it and the AMA's notice is shown (no screenshot: descriptors are AMA copyright)."""
    licensed = {"CMS_PRICING_SERVE_DESCRIPTORS": "true"}
    with serve_copy(ingested_url, tmp_path, **licensed) as server:
        context = browser.new_context(accept_downloads=True)
        page = context.new_page()
        page.goto(server.url("/"))
        ask(page, "99213", "94110")
        expect(page.locator("#status")).to_contain_text("Priced 1 of 1")
        described = get(server.url("/codes/99213/prices?zip=94110"))[1]["description"]
        expect(page.locator("#ama")).to_be_visible()
        expect(page.locator("#ama")).to_contain_text("American Medical Association")
        expect(page.locator("#results-table .descriptor")).to_have_text(described)
        with page.expect_download() as info:
            page.get_by_role("button", name="Download CSV").click()
        saved = tmp_path / "described.csv"
        info.value.save_as(saved)
        with saved.open(newline="") as handle:
            assert {row["description"] for row in csv.DictReader(handle)} == {described}
        context.close()
