"""The manager's form of one indicator (issue 10, item 3), through the real HTTP client.

It shows the target, unit, follow-up, earlier values and the latest analysis (as a draft);
value, analysis and manual status are saved together or each on its own, and what was typed
in the others is never lost; an analysis can be written before any value; a refused save
lists every error at the top and focuses the first field.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from audit.models import AuditEntry
from indicators.models import Assessment, Measurement
from tests.cast import PERIOD

NARA = "div_nara"
BASE = f"/rapportera/{NARA}/{PERIOD}/"
SHARE = "utskrivningsklara_1dygn"  # percent, at most 7 %, with two counts beside it
TELEQ = "telefon_teleq"  # 95 %, 81 at T2 2022 and 82 at T2 2021
MISSING = "digitala_vardbesok"  # followed up every tertial, target 40 %, no tertial value
ANALYSIS = "Flödet till kommunerna har stannat av under sommaren."


@pytest.fixture
def manager(client, cast):
    client.force_login(cast["manager"])
    return cast["manager"]


def url(indicator: str) -> str:
    return f"{BASE}styrmatt/{indicator}/"


def stored(indicator: str) -> Assessment | None:
    return Assessment.objects.filter(
        indicator__code=indicator, org_unit__code=NARA, period=PERIOD
    ).first()


def value_of(indicator: str, breakdown: str = "total") -> Decimal | None:
    m = Measurement.objects.filter(
        indicator__code=indicator, org_unit__code=NARA, period=PERIOD, breakdown=breakdown
    ).first()
    return m.value if m else None


class _Fields(HTMLParser):
    """The fields of the indicator form as a browser would post them (buttons aside)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("type") in ("text", "number") and a.get("name"):
            self.data[a["name"]] = a.get("value") or ""
        elif tag == "textarea":
            self._textarea = a["name"]
            self.data[a["name"]] = ""
        elif tag == "select":
            self._select = a["name"]
            self.data[a["name"]] = ""
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def form_data(page: str) -> dict[str, str]:
    """What the browser would post: every input, select and textarea as the page fills it."""
    form = re.search(r'<form [^>]*class="indicator-form".*?</form>', page, re.S)[0]
    parser = _Fields()
    parser.feed(form)
    # A browser drops the one line break that follows <textarea>.
    return {k: v.removeprefix("\n") for k, v in parser.data.items()}


def test_the_form_shows_target_unit_follow_up_and_earlier_values(client, manager):
    page = client.get(url(TELEQ)).text
    facts = re.search(r'<dl class="facts indicator-facts">.*?</dl>', page, re.S)[0]
    assert "95\xa0%" in facts  # the target "95%" as the report writes it
    assert "procent" in facts
    assert "DÅ04, DÅ08, ÅR" in facts
    # T1 2022 has no value: the latest earlier one is a year before.
    assert "Senaste tidigare utfall (2021-T2)" in facts and "82\xa0%" in facts
    assert "○</span> Ej uppfyllt" in facts
    # One form for the values, the analysis and the manual status, each with its button.
    main = page[page.index("<main") :]
    assert main.count("<form ") == 1
    for button in ('value="value:total"', 'value="analysis"', 'value="override"', 'value="all"'):
        assert f'name="save" {button}' in page


def test_an_analysis_typed_before_saving_the_value_is_not_lost(client, manager):
    page = client.get(url(SHARE)).text
    data = {
        **form_data(page),
        "total-value": "35,9",
        "total-numerator": "369",
        "total-denominator": "1029",
        "analysis": ANALYSIS,
        "save": "value:total",
    }
    response = client.post(url(SHARE), data)
    # The value is saved; the analysis is still on the page, said to be unsaved.
    assert response.status_code == 200
    assert value_of(SHARE) == Decimal("35.9")
    assert stored(SHARE).analysis == ""
    assert ANALYSIS in response.text
    assert "Sparat: Utfall (Totalt)." in response.text
    assert "Inte sparat ännu: Analys." in response.text
    # Saving it from that page keeps the value and adds the analysis.
    data = {**form_data(response.text), "save": "analysis"}
    assert data["analysis"] == ANALYSIS and data["total-value"] == "35,9"
    assert client.post(url(SHARE), data).status_code == 302
    assert stored(SHARE).analysis == ANALYSIS and value_of(SHARE) == Decimal("35.9")


def test_value_analysis_and_manual_status_are_saved_together(client, manager):
    data = {
        **form_data(client.get(url(SHARE)).text),
        "total-value": "35,9",
        "total-numerator": "369",
        "total-denominator": "1029",
        "analysis": ANALYSIS,
        "status": "partly",
        "comment": "Nära målet räknat på helår.",
        "save": "all",
    }
    response = client.post(url(SHARE), data)
    assert response.status_code == 302
    assessment = stored(SHARE)
    assert value_of(SHARE) == Decimal("35.9")
    assert (assessment.analysis, assessment.override_status) == (ANALYSIS, "partly")
    assert assessment.override_comment == "Nära målet räknat på helår."
    page = client.get(response["Location"]).text
    assert "Sparat: Utfall (Totalt), Analys, Manuell bedömning." in page
    # Nothing else changed: the counts beside the share were left as they were.
    assert value_of(SHARE, "count_vtf_total") == Decimal(1029)


def test_a_refused_save_keeps_everything_typed_and_focuses_the_first_error(client, manager):
    before = (value_of(SHARE), stored(SHARE).analysis, stored(SHARE).override_status)
    data = {
        **form_data(client.get(url(SHARE)).text),
        "total-value": "50",
        "total-numerator": "369",
        "total-denominator": "1029",
        "analysis": ANALYSIS,
        "status": "partly",
        "comment": "",
        "save": "all",
    }
    response = client.post(url(SHARE), data)
    assert response.status_code == 400
    assert (value_of(SHARE), stored(SHARE).analysis, stored(SHARE).override_status) == before
    page = response.text
    summary = re.search(r'<div class="error-summary".*?</div>', page, re.S)[0]
    assert summary.index('href="#id_total-value"') < summary.index('href="#id_comment"')
    assert "stämmer inte med täljare och nämnare" in summary
    assert "En manuell bedömning måste motiveras." in summary
    # The summary comes before the form; the first field in error gets the focus.
    assert page.index('class="error-summary"') < page.index('class="indicator-form"')
    assert re.search(r'<input[^>]*name="total-value"[^>]*autofocus', page)
    assert page.count("autofocus") == 1
    assert ANALYSIS in page
    # Parts not being saved are shown as typed, not judged ("required" on empty counts).
    assert "Det här fältet är obligatoriskt." not in page


def test_an_analysis_can_be_written_before_any_value(client, manager):
    assert stored(MISSING) is None and value_of(MISSING) is None
    page = client.get(url(MISSING)).text
    assert 'name="analysis"' in page and "Ange ett utfall först" not in page
    text = "Divisionen har inte mätt digitala besök per tertial; därför saknas utfall."
    data = {**form_data(page), "analysis": text, "save": "analysis"}
    assert client.post(url(MISSING), data).status_code == 302
    assessment = stored(MISSING)
    assert assessment.analysis == text and assessment.computed_status == "no_data"
    assert value_of(MISSING) is None
    operations = list(
        AuditEntry.objects.filter(object_id=str(assessment.pk))
        .order_by("pk")
        .values_list("operation", flat=True)
    )
    assert operations == ["create", "update"]
    # The report shows it under the indicator, which still has no value yet.
    report = client.get(f"/styrkort/{NARA}/{PERIOD}/").text
    group = re.search(rf'data-indicator="{MISSING}" data-state="([^"]+)".*?</tbody>', report, re.S)
    assert group[1] == "no_data" and text in group[0]


def test_the_one_part_addresses_work_before_any_value_too(client, manager):
    response = client.post(f"{url(MISSING)}analys/", {"analysis": "Saknas: se ovan."})
    assert response.status_code == 302  # it was 404 before a value came in
    response = client.post(
        f"{url(MISSING)}bedomning/", {"status": "not_fulfilled", "comment": "Inget mätt."}
    )
    assert response.status_code == 302
    assessment = stored(MISSING)
    assert (assessment.analysis, assessment.status) == ("Saknas: se ovan.", "not_fulfilled")


def test_the_latest_analysis_is_a_draft_until_saved(client, manager):
    earlier = Assessment.objects.create(
        indicator=stored(TELEQ).indicator,
        org_unit=stored(TELEQ).org_unit,
        period="2022-T1",
        computed_status="not_fulfilled",
        trend="no_data",
        computed_at=timezone.now(),
        analysis="Svarstiderna ökade under vintern.",
    )
    page = client.get(url(TELEQ)).text
    assert "Analysen för 2022-T1" in page and "förifyllt" in page
    assert re.search(r'<textarea name="analysis"[^>]*>\s*Svarstiderna ökade under vintern.', page)
    # Saving the value alone leaves the draft unsaved and says nothing about it.
    data = {**form_data(page), "total-value": "80", "save": "value:total"}
    response = client.post(url(TELEQ), data)
    assert response.status_code == 302
    assert stored(TELEQ).analysis == ""
    # "Spara allt" saves what the page shows, the draft included.
    data = {**form_data(client.get(url(TELEQ)).text), "save": "all"}
    assert client.post(url(TELEQ), data).status_code == 302
    assert stored(TELEQ).analysis == earlier.analysis
    assert Assessment.objects.get(pk=earlier.pk).analysis == earlier.analysis


def test_nothing_to_save_says_so(client, manager):
    data = {**form_data(client.get(url(TELEQ)).text), "save": "all"}
    response = client.post(url(TELEQ), data)
    assert response.status_code == 302
    assert "Inget att spara" in client.get(response["Location"]).text


def test_english(client, manager, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url(TELEQ)).text
    assert "Save all" in page and "Latest earlier value (2021-T2)" in page
    data = {**form_data(page), "total-value": "", "save": "value:total"}
    response = client.post(url(TELEQ), data)
    assert response.status_code == 400
    assert "Nothing was saved: 1 error to correct" in response.text
    assert "This field is required." in response.text
