"""Closing, reopening and a corrected report in a real browser: the administrator closes
with a reason and reopens with one on the report page, and the pages that show the closed
and the corrected report pass axe-core (WCAG 2.1 A/AA) in both languages and do not scroll
sideways on a phone."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from audit.models import Source
from demo.nara import load_demo
from divisions.models import OrgUnit
from indicators import editing
from indicators.models import Indicator
from scorecard.models import PeriodClose

from .test_dashboard import axe_violations, charts_drawn, log_in, screenshots

PERIOD = "2022-T2"
REPORT = f"/rapportera/div_nara/{PERIOD}/"
DIVISION = f"/styrkort/div_nara/{PERIOD}/"
PRINT = f"/styrkort/div_nara/{PERIOD}/utskrift/"

pytestmark = pytest.mark.django_db(transaction=True)


def checked(page, path: str, found: dict, language: str) -> None:
    page.goto(path)
    charts_drawn(page)
    violations = axe_violations(page)
    if violations:
        found[f"{language} {path}"] = violations


def test_close_reopen_and_the_corrected_report(page, transactional_db):
    load_demo()
    log_in(page, "admin")
    found: dict[str, list[str]] = {}

    page.goto(REPORT)
    page.get_by_label("Motivering (valfri)").fill("Fastställd av divisionsledningen")
    page.get_by_role("button", name="Stäng perioden för Division Nära").click()
    page.get_by_text("Slutlig rapport.").first.wait_for()
    assert PeriodClose.objects.get().reason == "Fastställd av divisionsledningen"
    for path in (REPORT, DIVISION):
        checked(page, path, found, "sv")
    assert "Rapporten visas som den såg ut" in page.content()

    page.goto(REPORT)
    page.get_by_label("Motivering", exact=True).fill("Fel antal triage")
    page.get_by_role("button", name="Öppna perioden igen").click()
    page.get_by_text("är öppnad igen").wait_for()
    editing.set_measurement(
        user=get_user_model().objects.get(username="admin"),
        source=Source.FORM,
        indicator=Indicator.objects.get(code="digitalen_triage"),
        org_unit=OrgUnit.objects.get(code="div_nara"),
        period=PERIOD,
        breakdown="total",
        value=Decimal(30000),
        numerator=None,
        denominator=None,
        comment="",
    )

    page.goto(DIVISION)
    assert page.locator("#corrections-heading").inner_text() == "Rättad efter fastställande"
    screenshots(page, "corrected-report")
    for language in ("sv", "en"):
        if language == "en":
            page.click("button[name=language][value=en]")
            page.wait_for_load_state("load")
        for path in (DIVISION, PRINT, REPORT):
            checked(page, path, found, language)
    assert "Corrected after approval" in page.content()
    assert found == {}
