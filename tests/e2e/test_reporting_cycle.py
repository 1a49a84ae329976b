"""The reporting cycle in a real browser, with the reminder received by a real SMTP server.

An administrator sets the deadline of 2022-T2 and sees in the overview that Division Alfa's
report is incomplete (tests/reporting/cycle_world.py: 6 things missing, counted by hand);
the beat task's reminder reaches Alfa's manager, and only her, with the link to the board;
she follows it, fills each gap from the board's links, and the board turns complete.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from reporting.reminders import send_reminders
from scorecard.models import ReportingDeadline
from tests.cast import PASSWORD
from tests.mail import smtp, smtp_server  # noqa: F401 (fixtures)
from tests.reporting.cycle_world import PERIOD, build_world

from .test_dashboard import axe_violations
from .test_reporting_flow import new_page, sign_in


@pytest.mark.django_db(transaction=True)
def test_deadline_board_reminder_and_the_manager_completes_the_report(
    transactional_db,
    live_server,
    browser,
    smtp,  # noqa: F811 (the fixture imported above)
    settings,
):
    build_world(password=PASSWORD)
    settings.STYRKORT_SITE_URL = live_server.url
    base = live_server.url
    violations: list[str] = []
    due = timezone.localdate() + datetime.timedelta(days=3)

    # --- the administrator sets the deadline
    admin = new_page(browser, violations)
    sign_in(admin, base, "admin")
    admin.goto(f"{base}/rapportera/tidsfrister/")
    admin.get_by_label("Period").fill(PERIOD)
    admin.get_by_label("Sista dag").fill(due.isoformat())
    admin.get_by_label("Påminn antal dagar före").fill("7")
    admin.get_by_role("button", name="Spara tidsfrist").click()
    admin.get_by_text(f"Sista dag för {PERIOD} är {due.isoformat()}.").wait_for()
    row = admin.locator(f'tr[data-period="{PERIOD}"]')
    assert row.locator("td").first.inner_text() == due.isoformat()
    assert ReportingDeadline.objects.get().set_by.username == "admin"

    # --- the overview and the board show what is missing
    row.get_by_role("link").click()
    admin.wait_for_url(f"**/rapportera/oversikt/{PERIOD}/")
    assert "1 av 2 divisioner är kompletta." in admin.inner_text("main")
    alfa = admin.locator('tr[data-division="div_alfa"]')
    assert alfa.locator("td").all_inner_texts() == ["1", "2", "2", "1", "! Inte komplett"]
    assert "Komplett" in admin.locator('tr[data-division="div_beta"]').inner_text()
    assert axe_violations(admin) == []
    alfa.get_by_role("link", name="Division Alfa").click()
    admin.wait_for_url(f"**/rapportera/div_alfa/{PERIOD}/status/")
    assert "6 saker saknas." in admin.inner_text(".completeness")
    assert "3 dagar kvar." in admin.inner_text(".deadline")
    assert axe_violations(admin) == []

    # --- the reminder (the beat task's work) reaches Alfa's manager with the link
    sent = send_reminders()
    assert [(r.org_unit.code, r.kind) for r in sent] == [("div_alfa", "before")]
    [mail] = smtp.wait_for(1)
    assert mail.recipients == ["chef.alfa@example.org"]
    links = re.findall(r"^(http\S+)$", mail.body, flags=re.MULTILINE)
    board = f"{base}/rapportera/div_alfa/{PERIOD}/status/"
    assert links == [board, f"{base}/rapportera/div_alfa/{PERIOD}/"]

    # --- the manager follows the link and fills each gap from the board
    page = new_page(browser, violations)
    sign_in(page, base, "chef")
    page.goto(links[0])
    assert "6 saker saknas." in page.inner_text(".completeness")
    assert page.locator(".completeness").get_attribute("data-complete") == "false"

    def from_board(name: str) -> None:
        page.goto(board)
        page.get_by_role("link", name=name).click()

    from_board("Rapportera utfall Antal besök, Alfa Söder")
    page.wait_for_url(f"**/rapportera/alfa_soder/{PERIOD}/styrmatt/besok/")
    page.locator("#id_total-value").fill("80")
    page.get_by_role("button", name="Spara utfall (Totalt)").click()
    page.get_by_text("Sparat: Utfall (Totalt).").wait_for()

    for indicator in ("Andel besök inom vårdgarantin", "Nöjd medarbetarindex"):
        from_board(f"Skriv analys {indicator}")
        page.locator("#id_analysis").fill("Sommarens bemanning; åtgärd insatt.")
        page.get_by_role("button", name="Spara analys").click()
        page.get_by_text("Sparat: Analys.").wait_for()

    for perspective in ("Samhälle", "Medarbetare"):
        from_board(f"Skriv samlad bedömning {perspective}")
        page.locator("#id_status").select_option("partly")
        page.locator("#id_text").fill("Delvis uppfyllt under tertialet.")
        # Where the judged status differs from the computed one a reason is required.
        page.locator("#id_justification").fill("Två av tre mått nådda; trenden vänder.")
        page.get_by_role("button", name="Spara samlad bedömning").click()
        page.get_by_text("Den samlade bedömningen är sparad.").wait_for()

    from_board("Lägg till åtgärd Andel besök inom vårdgarantin")
    # The board's link names the indicator: it is ticked, its perspective chosen.
    assert page.get_by_label("Andel besök inom vårdgarantin").is_checked()
    assert page.locator("#id_perspective option:checked").inner_text() == "Samhälle"
    page.locator("#id_goal").fill("Fler besök inom vårdgarantin")
    page.locator("#id_description").fill("Lördagsmottagning under hösten")
    page.locator("#id_status").select_option("ongoing")
    page.get_by_role("button", name="Spara åtgärd").click()
    page.get_by_text("Åtgärden är sparad.").wait_for()
    assert "Andel besök inom vårdgarantin" in page.inner_text(
        'section[data-perspective="samhalle"]'
    )

    # --- the board is complete, and no second reminder goes out
    page.goto(board)
    assert page.locator(".completeness").get_attribute("data-complete") == "true"
    assert "Komplett:" in page.inner_text(".completeness")
    assert page.locator("section.gaps").count() == 0
    assert axe_violations(page) == []
    assert send_reminders() == []
    admin.goto(f"{base}/rapportera/oversikt/{PERIOD}/")
    assert "2 av 2 divisioner är kompletta." in admin.inner_text("main")
    assert violations == []
