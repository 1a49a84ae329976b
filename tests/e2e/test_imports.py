"""Imports in a real browser (issue 11, findings 9 and 10a): a file sent again is refused,
then imported again on purpose with a reason; the file is a link only for those who may
download it; the pages pass axe-core in both languages.
"""

from __future__ import annotations

import re

import pytest

from config.celery import app as celery_app
from demo.nara import load_demo
from indicators.models import Import, Measurement

from .test_dashboard import axe_violations, log_in

pytestmark = pytest.mark.django_db(transaction=True)

FILE = b"indicator,org_unit,period,breakdown,value\ntelefon_teleq,div_nara,2022-T2,total,96\n"
REASON = "Rättelsen var fel; tillbaka till första filen."


@pytest.fixture
def data(transactional_db):
    load_demo()
    # Imports run in the web process, as in the demo: no worker in this test.
    before = celery_app.conf.task_always_eager
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.CELERY_TASK_ALWAYS_EAGER = before


def send(page, name: str) -> None:
    page.goto("/importer/")
    page.set_input_files("#id_file", {"name": name, "mimeType": "text/csv", "buffer": FILE})
    page.uncheck("#id_preview")
    page.click("form.upload-form button[type=submit]")
    page.wait_for_load_state("load")


def test_a_file_sent_again_is_imported_again_on_purpose(page, data):
    log_in(page, "chef.nara")
    send(page, "t2.csv")
    first = Import.objects.latest("pk")
    assert first.status == "succeeded"
    send(page, "t2-igen.csv")
    assert "Samma fil har redan tagits emot som import" in page.content()
    found = {}
    for language in ("sv", "en"):
        if language == "en":
            page.click("button[name=language][value=en]")
            page.wait_for_load_state("load")
        violations = axe_violations(page)
        if violations:
            found[language] = violations
    assert found == {}
    assert page.locator("#again-heading").inner_text() == "Import the file again"
    page.fill("#id_reason", REASON)
    page.uncheck("#id_preview")
    page.click("section[aria-labelledby=again-heading] button[type=submit]")
    page.wait_for_load_state("load")
    again = Import.objects.latest("pk")
    assert re.search(rf"/importer/{again.pk}/$", page.url)
    assert (again.status, again.reimport_of, again.reason) == ("succeeded", first, REASON)
    assert again.unchanged == 1  # nothing changed the value since: 0 created, 0 changed
    assert REASON in page.content() and axe_violations(page) == []
    value = Measurement.objects.get(
        indicator__code="telefon_teleq", org_unit__code="div_nara", period="2022-T2"
    )
    assert (value.value, value.source_import) == (96, first)
    # The sender downloads the file; the board member reads the record, not the file.
    assert page.locator(f'a[href="/importer/{again.pk}/fil/"]').count() == 1
    page.context.clear_cookies()
    log_in(page, "ledamot")
    page.goto(f"/importer/{again.pk}/")
    assert "t2.csv" in page.content()
    assert page.locator(f'a[href="/importer/{again.pk}/fil/"]').count() == 0
    assert page.goto(f"/importer/{again.pk}/fil/").status == 403
