"""The manager's indicator form in Chromium (issue 10, item 3): a refused save puts the
focus on the first field in error, with every error listed at the top, and nothing typed is
lost, neither by the refusal nor by saving one part of the form.

The session's one Chromium is tests/e2e/conftest.py's `browser` (fails, never skips, when
/usr/bin/chromium is missing).
"""

from __future__ import annotations

import pytest

from tests.cast import PASSWORD, PERIOD, make_user
from tests.e2e.test_reporting_flow import new_page, sign_in

SHARE = "utskrivningsklara_1dygn"
FORM = f"/rapportera/div_nara/{PERIOD}/styrmatt/{SHARE}/"
ANALYSIS = "Flödet till kommunerna har stannat av under sommaren."


@pytest.mark.django_db(transaction=True)
def test_a_refused_save_focuses_the_first_error_and_keeps_what_was_typed(
    transactional_db, nara, live_server, browser
):
    from indicators.models import Assessment, Measurement

    make_user("chef", "division_manager", "div_nara", password=PASSWORD)
    violations: list[str] = []
    page = new_page(browser, violations)
    page.set_viewport_size({"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    sign_in(page, live_server.url, "chef")
    page.goto(f"{live_server.url}{FORM}")

    # The analysis first, then a value that does not match its numerator and denominator.
    page.locator("#id_analysis").fill(ANALYSIS)
    page.locator("#id_total-value").fill("50")
    page.locator("#id_total-numerator").fill("369")
    page.locator("#id_total-denominator").fill("1029")
    page.get_by_role("button", name="Spara allt").click()
    page.locator("#error-summary").wait_for()

    # The first field in error has the focus, in view; the summary at the top links to it.
    focused = page.evaluate("document.activeElement.id")
    assert focused == "id_total-value"
    assert page.evaluate(
        "(() => { const r = document.activeElement.getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; })()"
    )
    summary = page.locator("#error-summary")
    assert "stämmer inte med täljare och nämnare" in summary.inner_text()
    assert summary.get_by_role("link").first.get_attribute("href") == "#id_total-value"
    assert page.locator("#id_analysis").input_value() == ANALYSIS  # nothing lost

    # Corrected, and only the value saved: the analysis stays on the page, unsaved.
    page.locator("#id_total-value").fill("35,9")
    page.get_by_role("button", name="Spara utfall (Totalt)").click()
    page.get_by_text("Inte sparat ännu: Analys.").wait_for()
    assert page.locator("#id_analysis").input_value() == ANALYSIS
    value = Measurement.objects.get(
        indicator__code=SHARE, org_unit__code="div_nara", period=PERIOD, breakdown="total"
    ).value
    assert str(value.normalize()) == "35.9"

    page.get_by_role("button", name="Spara analys").click()
    page.get_by_text("Sparat: Analys.").wait_for()
    assessment = Assessment.objects.get(
        indicator__code=SHARE, org_unit__code="div_nara", period=PERIOD
    )
    assert assessment.analysis == ANALYSIS
    page.context.close()
    assert violations == [] and errors == []
