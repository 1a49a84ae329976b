"""The states of a report row (issue 10, item 2): fulfilled, partly, not fulfilled, and the
four ways of having no status (no value yet, no reference to compare with, not due this
period, followed up without a target), each with its own words and symbol, in the legend,
and counted per perspective exactly as the division page's table shows them."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from audit.services import Actor
from dashboard import freezing
from dashboard.presentation import STATES, STATUS_SYMBOLS, status_label
from dashboard.selectors.overview import perspective_grid, region_overview
from dashboard.templatetags.styrkort import status_badge, status_counts
from demo.nara import DEMO_PASSWORD
from divisions.models import OrgUnit
from domain.periods import Period
from domain.rules import ReportStatus, report_status, report_trend
from scorecard.models import Perspective

PERIOD = "2022-T2"
# Nära's rows at T2 2022, one for each state (demo/fixtures/nara_2022_t2).
NARA_ROWS = {
    "telefon_teleq": "not_fulfilled",  # 81 % against 95 %
    "medicinsk_bedomning_3d": "partly",
    "digitalen_triage": "fulfilled",
    "digitala_vardbesok": "no_data",  # DÅ04,08,ÅR with a target, no value at T2
    "sjukfranvaro": "no_reference",  # 7,6 % against "Minska", no T2 2021 value
    "kompetensforsorjningsplaner": "not_due",  # ÅR only, in a tertial
    "fhv_insatser": "not_assessed",  # followed up every tertial, no target
}
WORDS = {
    "fulfilled": ("Uppfyllt", "Fulfilled"),
    "partly": ("Delvis uppfyllt", "Partly fulfilled"),
    "not_fulfilled": ("Ej uppfyllt", "Not fulfilled"),
    "no_data": ("Utfall saknas", "No value yet"),
    "no_reference": ("Jämförelsevärde saknas", "No value to compare with"),
    "not_due": ("Ej aktuellt denna period", "Not due this period"),
    "not_assessed": ("Följs upp", "Followed up"),
}


# --------------------------------------------------------------------------- the rules


@pytest.mark.parametrize(
    ("follow_up", "period", "due"),
    [
        (["YEAR"], "2022-T2", False),
        (["YEAR"], "2022", True),
        (["YEAR"], "2022-T3", True),  # T3 is year-to-date to December: the year's figure
        (["T2", "YEAR"], "2022-T1", False),
        (["T2", "YEAR"], "2022-T2", True),
        (["T1", "T2", "YEAR"], "2022-08", False),
        (["MONTH"], "2022-08", True),
        (["T3"], "2022", True),
        ([], "2022-T1", True),  # no follow-up given: every period
    ],
)
def test_which_periods_an_indicator_is_due_in(follow_up, period, due):
    assert Period.parse(period).is_due(follow_up) is due


S = ReportStatus


@pytest.mark.parametrize(
    ("status", "has_value", "due", "assessable", "shown"),
    [
        ("fulfilled", True, True, True, S.FULFILLED),
        ("partly", True, False, True, S.PARTLY),  # a judged value shows even when not due
        ("not_fulfilled", False, True, True, S.NOT_FULFILLED),  # an override without value
        ("no_data", True, True, True, S.NO_REFERENCE),  # "Öka" without last year's value
        ("no_data", False, True, True, S.NO_DATA),  # an analysis written before the value
        ("no_data", False, False, True, S.NOT_DUE),
        ("not_assessed", True, True, False, S.NOT_ASSESSED),
        ("not_assessed", False, False, False, S.NOT_DUE),
        (None, False, True, True, S.NO_DATA),
        (None, False, True, False, S.NOT_ASSESSED),
        (None, False, False, True, S.NOT_DUE),
    ],
)
def test_report_status(status, has_value, due, assessable, shown):
    assert report_status(status, has_value=has_value, due=due, assessable=assessable) == shown


def test_a_trend_without_a_value_is_not_shown_and_with_one_lacks_its_reference():
    assert report_trend("improved", has_value=True) == "improved"
    assert report_trend("no_data", has_value=True) == "no_data"
    assert report_trend("no_data", has_value=False) == ""
    assert report_trend(None, has_value=False) == ""


# --------------------------------------------------------------------------- words and symbols


def test_each_state_has_its_own_words_and_symbol_in_both_languages():
    assert set(STATES) == set(WORDS)
    assert len({STATUS_SYMBOLS[s] for s in STATES}) == len(STATES)
    for index, language in enumerate(("sv", "en")):
        with translation.override(language):
            labels = {s: status_label(s) for s in STATES}
            assert labels == {s: words[index] for s, words in WORDS.items()}
            for status in STATES:
                badge = status_badge(status)
                # Never colour alone: the symbol (hidden from screen readers) and the words.
                assert f"status--{status}" in badge
                assert f'aria-hidden="true">{STATUS_SYMBOLS[status]}</span> {labels[status]}' in (
                    badge
                )


def test_counts_show_symbols_and_words_for_screen_readers():
    from dashboard.selectors.overview import StatusCounts

    with translation.override("sv"):
        html = status_counts(StatusCounts(fulfilled=2, not_due=3))
    assert '<span class="visually-hidden">uppfyllda:</span> 2' in html
    assert '<span class="visually-hidden">ej aktuella denna period:</span> 3' in html
    assert "utan jämförelsevärde" not in html  # a state without indicators is left out
    assert "ej uppfyllda:</span> 0" in html  # the three judged ones always


# --------------------------------------------------------------------------- the pages


@pytest.fixture
def board(client, demo):
    assert client.login(username="ledamot", password=DEMO_PASSWORD)
    return client


def _rows(page: str) -> dict[str, dict[str, str]]:
    """Perspective code -> indicator code -> the state its row group shows."""
    rows: dict[str, dict[str, str]] = {}
    sections = re.split(r'<section class="perspective" id="perspective-', page)[1:]
    for section in sections:
        code = section[: section.index('"')]
        rows[code] = dict(
            re.findall(
                r'<tbody class="indicator" data-indicator="([^"]+)" data-state="([^"]*)"', section
            )
        )
    return rows


def test_each_state_shows_in_the_report_with_its_words_and_in_the_legend(board):
    page = board.get(f"/styrkort/div_nara/{PERIOD}/").text
    shown = {code: state for rows in _rows(page).values() for code, state in rows.items()}
    for code, state in NARA_ROWS.items():
        assert shown[code] == state, code
        group = re.search(rf'data-indicator="{code}".*?</tbody>', page, re.S)[0]
        assert f'<span class="status status--{state}">' in group
        assert WORDS[state][0] in group
    legend = re.search(r'<details class="legend">.*?</details>', page, re.S)[0]
    for status in STATES:
        assert f"status--{status}" in legend and WORDS[status][0] in legend
    # No row says "Uppgift saknas" any more: each case has its own words.
    assert "Uppgift saknas" not in page
    # A trend needs a value: the row not due shows none, the one without reference says so.
    for code, trend in (("kompetensforsorjningsplaner", None), ("sjukfranvaro", "no_data")):
        group = re.search(rf'data-indicator="{code}".*?</tbody>', page, re.S)[0]
        assert ("trend--no_data" in group) is (trend == "no_data"), code


@pytest.mark.parametrize("division", ["div_nara", "div_lanssjukvard"])
def test_the_counts_per_perspective_are_the_rows_of_the_report(board, division):
    unit = OrgUnit.objects.get(code=division)
    page = board.get(f"/styrkort/{division}/{PERIOD}/").text
    rows = _rows(page)
    grid = perspective_grid([unit], PERIOD)
    overview = region_overview(PERIOD).grid
    in_overview = next(row for row in overview.rows if row.org_unit.pk == unit.pk)
    assert sum(len(r) for r in rows.values()) > 10
    for cell, overview_cell in zip(grid.rows[0].cells, in_overview.cells, strict=True):
        counted = {s: n for s, n in cell.counts.items() if n}
        assert counted == dict(Counter(rows.get(cell.perspective.code, {}).values())), (
            cell.perspective.code
        )
        assert overview_cell.counts == cell.counts
        assert cell.counts.total == len(rows.get(cell.perspective.code, {}))


def test_the_summary_table_counts_every_row(board):
    page = board.get(f"/styrkort/div_nara/{PERIOD}/").text
    medarbetare = Perspective.objects.get(code="medarbetare")
    row = re.search(rf'<a href="#perspective-{medarbetare.code}">.*?</tr>', page, re.S)[0]
    # Eleven indicators: one judged, one without reference, seven not due, two only followed.
    for word, n in (
        ("ej uppfyllda", 1),
        ("utan jämförelsevärde", 1),
        ("ej aktuella denna period", 7),
        ("följs upp utan mål", 2),
    ):
        assert f"{word}:</span> {n}</span>" in row, word
    assert "utan utfall:" not in row


def test_a_closed_report_keeps_its_states_and_counts(board, settings):
    nara = OrgUnit.objects.get(code="div_nara")
    live = board.get(f"/styrkort/div_nara/{PERIOD}/").text
    admin = get_user_model().objects.get(username="admin")
    freezing.close_report(actor=Actor(admin), org_unit=nara, period=PERIOD)
    frozen = board.get(f"/styrkort/div_nara/{PERIOD}/").text
    assert "Slutlig rapport" in frozen
    assert _rows(frozen) == _rows(live)
    for status in ("not_due", "no_reference", "not_assessed"):
        assert f'<span class="status status--{status}">' in frozen
    summary = re.search(r'<section class="summary".*?</section>', frozen, re.S)[0]
    assert summary == re.search(r'<section class="summary".*?</section>', live, re.S)[0]
    board.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = board.get(f"/styrkort/div_nara/{PERIOD}/").text
    assert "Not due this period" in english and "No value to compare with" in english


def test_a_report_frozen_before_the_states_shows_no_correction_for_its_words(demo):
    """A report closed while every unjudged row said "no data" (format 1), reopened now:
    the new words are no correction; a changed value still is."""
    import copy

    from dashboard.selectors.division import division_page
    from dashboard.snapshot import line_changes, page_content

    nara = OrgUnit.objects.get(code="div_nara")
    now = page_content(division_page(nara, PERIOD))
    old = copy.deepcopy(now)
    old["format"] = 1
    for line in old["lines"]:
        if line["status"] in ("no_reference", "not_due"):
            line["status"] = "no_data"  # what format 1 wrote
        if line["first_of_indicator"] and line["value"] is None:
            line["trend"] = "no_data"
        line.pop("indicator_state", None)
    assert any(
        line["status"] != o["status"] for line, o in zip(now["lines"], old["lines"], strict=True)
    )
    assert line_changes(old, now) == []
    changed = next(line for line in old["lines"] if line["indicator"]["code"] == "telefon_teleq")
    changed["value"] = "80"
    [change] = line_changes(old, now)
    assert (change.indicator, [f.field for f in change.fields]) == ("telefon_teleq", ["value"])
