"""The dashboard in a real browser (issue #4): drill-down, charts, language, roles, WCAG.

Headless Debian Chromium against the live server. Each test writes screenshots of the
pages it visits to test-artifacts/screenshots/ (git-ignored) at 1280, 820 and 390 px.
"""

from __future__ import annotations

import re

import pytest

from demo.nara import DEMO_PASSWORD, load_demo
from demo.synthetic import SyntheticSizes, generate_synthetic

from .conftest import AXE, SCREENSHOTS

PERIOD = "2022-T2"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = {"desktop": 1280, "tablet": 820, "phone": 390}

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(transactional_db):
    """Nära's T2 2022 and a small synthetic history, so that every chart has something."""
    load_demo()
    generate_synthetic(
        SyntheticSizes(divisions=2, areas=2, units=3, indicators=6, years=3, first_year=2020)
    )


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("form.login-form button[type=submit]")
    page.wait_for_load_state("load")


def charts_drawn(page) -> dict[str, dict[str, int]]:
    """Every chart on the page drawn by plotly.js: chart id -> traces drawn per kind."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')]"
        ".every(el => el.getAttribute('data-drawn') === 'true')"
    )
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('[data-chart]')].map(el => [
            el.id, {
              svg: el.querySelectorAll('svg.main-svg').length,
              bars: el.querySelectorAll('g.trace.bars').length,
              lines: el.querySelectorAll('g.trace.scatter').length,
            }]))"""
    )


def no_page_scroll(page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def overflowing(page) -> list[str]:
    """The elements sticking out on the right, to say what makes the page scroll."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right
                          > document.documentElement.clientWidth + 1)
            .filter(el => !(el.parentElement && el.parentElement.closest('.table-scroll, .chart')))
            .slice(0, 8)
            .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                 + (el.className && el.className.baseVal === undefined ? '.' + el.className : '')
                 + ' ' + Math.round(el.getBoundingClientRect().right))"""
    )


def fit(page, width: int) -> None:
    """Resize the window and wait until every chart has been redrawn to its new box."""
    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-chart]')].every(el =>"
        " el._fullLayout && Math.abs(el._fullLayout.width - el.clientWidth) <= 1)"
    )


def screenshots(page, name: str) -> None:
    """The page at 1280, 820 and 390 px, each after its charts have redrawn to fit."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS.values():
        fit(page, width)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        assert no_page_scroll(page), f"{name} scrolls sideways at {width} px: {overflowing(page)}"
    fit(page, WIDTHS["desktop"])


def axe_violations(page) -> list[str]:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern (an
    # injected <script> would be refused, as it should be).
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    assert len(result["passes"]) > 10, "axe-core did not run"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in result["violations"]
    ]


def test_board_member_drills_down_and_switches_language(page, data):
    log_in(page, "ledamot")
    # The board lands on the overview of the newest period; choose T2 2022 in the selector.
    assert re.search(r"/oversikt/[^/]+/$", page.url)
    page.select_option("#id_period", PERIOD)
    page.click("form.selector button[type=submit]")
    page.wait_for_url(f"**/oversikt/{PERIOD}/")
    assert page.locator("html").get_attribute("lang") == "sv"
    drawn = charts_drawn(page)
    assert drawn["totals-chart"] == {"svg": 2, "bars": 4, "lines": 0} or (
        drawn["totals-chart"]["svg"] >= 1 and drawn["totals-chart"]["bars"] == 4
    )
    grid = page.locator("#overview-grid")
    # Nära, Länssjukvård and the two synthetic divisions
    assert grid.locator("tbody tr").count() == 4
    screenshots(page, "01-overview")

    # Division > perspective: the grid cell for Nära, Verksamhet.
    page.click(f'#overview-grid a[href="/styrkort/div_nara/{PERIOD}/#perspective-verksamhet"]')
    page.wait_for_url(f"**/styrkort/div_nara/{PERIOD}/#perspective-verksamhet")
    drawn = charts_drawn(page)
    assert drawn["counts-chart"]["bars"] == 4
    assert page.locator("#perspective-verksamhet h2").is_visible()
    screenshots(page, "02-division")

    # > indicator: the comparison of units and the series over time.
    page.click(f'#perspective-verksamhet a[href="/styrmatt/fallskador_aldre/div_nara/{PERIOD}/"]')
    page.wait_for_url(f"**/styrmatt/fallskador_aldre/div_nara/{PERIOD}/")
    drawn = charts_drawn(page)
    assert drawn["series-chart"]["lines"] >= 2  # the value and the target
    assert drawn["comparison-chart"]["bars"] >= 1
    # The table behind the chart is reachable by keyboard.
    page.focus("#series-chart ~ details summary")
    page.keyboard.press("Enter")
    assert page.locator("#series-chart ~ details table").is_visible()
    screenshots(page, "03-indicator")

    # > a unit: Pajala among its siblings, through the table behind the comparison chart.
    page.click("text=Visa jämförelsen som tabell")
    page.click('a[href="/styrmatt/fallskador_aldre/avp_pajala/2022-T2/"]')
    page.wait_for_url("**/styrmatt/fallskador_aldre/avp_pajala/2022-T2/")
    assert charts_drawn(page)["comparison-chart"]["bars"] >= 1
    screenshots(page, "04-unit-indicator")

    # A synthetic indicator with a long series and women and men as lines of their own.
    page.goto(f"/styrmatt/syn_div_01_i_01/syn_div_01/{PERIOD}/")
    drawn = charts_drawn(page)
    assert drawn["series-chart"]["lines"] == 4  # total, women, men, target
    assert drawn["comparison-chart"]["bars"] >= 1
    screenshots(page, "05-synthetic-indicator")

    # English and back, on the same page.
    page.click("button[name=language][value=en]")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "en"
    assert charts_drawn(page)["series-chart"]["lines"] == 4
    screenshots(page, "06-indicator-en")
    page.click("button[name=language][value=sv]")
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == "sv"

    # Goal fulfilment over time, for the region.
    page.click("nav.site-header__nav >> text=Över tid")
    page.wait_for_url("**/over-tid/region_norrbotten/tertial/")
    drawn = charts_drawn(page)
    assert len(drawn) == 5 and all(c["bars"] == 4 for c in drawn.values())
    screenshots(page, "07-over-time")

    page.goto(f"/styrkort/div_nara/{PERIOD}/utskrift/")
    screenshots(page, "08-print")
    page.goto(f"/styrkort/syn_div_01/{PERIOD}/")
    charts_drawn(page)
    screenshots(page, "09-synthetic-division")
    # plotly.js draws under the Content-Security-Policy without a single refusal.
    assert page.console_errors == []


def test_a_division_manager_reaches_only_what_the_role_allows(page, data):
    log_in(page, "chef.nara")
    assert page.url.endswith(f"/styrkort/div_nara/{PERIOD}/")
    assert page.locator(f'a[href="/rapportera/div_nara/{PERIOD}/"]').count() == 1
    assert page.locator("text=Administration").count() == 0
    # Reading other divisions is open to every signed-in user, writing there is not.
    page.goto(f"/styrkort/syn_div_01/{PERIOD}/")
    assert page.locator('main a[href^="/rapportera/"]').count() == 0
    # The admin pages are for administrators only.
    page.goto("/admin/")
    assert "Webbplatsadministration" not in page.content()
    assert "Site administration" not in page.content()


PAGES = [
    f"/oversikt/{PERIOD}/",
    f"/styrkort/div_nara/{PERIOD}/",
    f"/styrkort/primarvarden/{PERIOD}/",
    f"/styrmatt/fallskador_aldre/div_nara/{PERIOD}/",
    # Mapped to Kolada: the national comparison's chart, table and source line too.
    f"/styrmatt/medicinsk_bedomning_3d/div_nara/{PERIOD}/",
    f"/styrmatt/syn_div_01_i_01/syn_div_01_vo_01_e_01/{PERIOD}/",
    "/over-tid/region_norrbotten/tertial/",
    "/over-tid/div_nara/ar/",
    f"/styrkort/div_nara/{PERIOD}/utskrift/",
]


def test_no_wcag_21_aa_violations_on_any_page_in_either_language(page, data):
    log_in(page, "ledamot")
    found = {}
    for language in ("sv", "en"):
        if language == "en":
            page.click("button[name=language][value=en]")
            page.wait_for_load_state("load")
        for path in PAGES:
            page.goto(path)
            charts_drawn(page)
            # Open every chart table so that axe checks them too.
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            violations = axe_violations(page)
            if violations:
                found[f"{language} {path}"] = violations
    page.goto("/login/")  # the login page too (signed in it redirects; check it signed out)
    assert found == {}
