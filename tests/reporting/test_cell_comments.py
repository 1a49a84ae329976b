"""Cell comments as managers write them and readers get them: the form with its draft, the
division, print and indicator pages, the XLSX file, the report's footnote rows and the
frozen report of a closed period."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from audit.models import AuditEntry
from audit.services import Actor
from dashboard import freezing
from dashboard.exports import VALUE_COLUMN
from dashboard.selectors.comments import comments_for_report
from divisions.models import OrgUnit
from indicators.comments import save_comment
from indicators.models import CellComment, CommentState, Indicator
from tests.cast import PERIOD

NARA = "div_nara"
SPLIT = "vald_nara_relation"  # women and men
TOTAL = "telefon_teleq"
FORM = f"/rapportera/{NARA}/{PERIOD}/styrmatt/{SPLIT}/kommentar/men/"


def comment(user, code: str, breakdown: str, text: str, *, period=PERIOD, state="published"):
    return save_comment(
        user=user,
        indicator=Indicator.objects.get(code=code),
        org_unit=OrgUnit.objects.get(code=NARA),
        period=period,
        breakdown=breakdown,
        text=text,
        state=state,
    )


@pytest.fixture
def noted(cast):
    """Two published comments, in report order telefon_teleq (Medborgare) before
    vald_nara_relation's men (also Medborgare, later factor), and one draft."""
    manager = cast["manager"]
    comment(manager, SPLIT, "men", "Färre frågade under semestern.")
    comment(manager, TOTAL, "total", "=1+1 Telefonsystemet byttes i maj.")
    comment(manager, SPLIT, "women", "Ej klar än", state=CommentState.DRAFT)
    return manager


def test_the_form_offers_last_periods_comment_as_a_draft_and_publishes(client, cast):
    manager = cast["manager"]
    comment(manager, SPLIT, "men", "Kampanj i mars.", period="2022-T1")
    client.force_login(manager)
    page = client.get(FORM).text
    assert "Kampanj i mars.</textarea>" in page
    assert "förifyllt med kommentaren för 2022-T1" in page
    assert not CellComment.objects.filter(period=PERIOD).exists()

    response = client.post(FORM, {"text": "Kampanj i mars, fortsatt.", "save": "draft"})
    assert response.status_code == 302
    saved = CellComment.objects.get(period=PERIOD)
    assert (saved.text, saved.state, saved.breakdown) == (
        "Kampanj i mars, fortsatt.",
        "draft",
        "men",
    )
    client.force_login(cast["board"])
    assert "Kampanj i mars, fortsatt." not in client.get(f"/styrkort/{NARA}/{PERIOD}/").text

    client.force_login(manager)
    indicator_form = client.get(f"/rapportera/{NARA}/{PERIOD}/styrmatt/{SPLIT}/").text
    assert "Kommentar till cellen</strong> (utkast)" in indicator_form
    client.post(FORM, {"text": "Kampanj i mars, fortsatt.", "save": "publish"})
    assert CellComment.objects.get(period=PERIOD).state == "published"
    client.force_login(cast["board"])
    assert "Kampanj i mars, fortsatt." in client.get(f"/styrkort/{NARA}/{PERIOD}/").text

    client.force_login(manager)
    assert client.post(FORM, {"text": "", "save": "publish"}).status_code == 400
    client.post(FORM, {"text": "", "save": "delete"})
    assert not CellComment.objects.filter(period=PERIOD).exists()
    # 2022-T1 created; 2022-T2 created, published, removed.
    assert AuditEntry.objects.filter(content_type__model="cellcomment").count() == 4


@pytest.mark.parametrize("role", ["board", "analyst", "outsider"])
def test_the_form_refuses_those_who_may_not_write(client, cast, role):
    client.force_login(cast[role])
    assert client.get(FORM).status_code == 403
    assert client.post(FORM, {"text": "x", "save": "publish"}).status_code == 403
    assert not CellComment.objects.exists()


def test_the_form_of_a_closed_period_is_refused(client, cast):
    freezing.close_report(
        actor=Actor(cast["admin"]), org_unit=OrgUnit.objects.get(code=NARA), period=PERIOD
    )
    client.force_login(cast["manager"])
    response = client.post(FORM, {"text": "För sent", "save": "publish"})
    assert response.status_code == 403 and "är stängd" in response.text
    assert not CellComment.objects.exists()


def test_the_division_page_marks_the_cells_and_lists_the_notes(client, cast, noted):
    client.force_login(cast["board"])
    page = client.get(f"/styrkort/{NARA}/{PERIOD}/").text
    # Each cell's marker is a link with a label, numbered in report order.
    refs = re.findall(
        r'<sup class="note-ref"><a href="#note-(\d)" id="note-ref-\1" '
        r'aria-label="Kommentar \1">\1</a></sup>',
        page,
    )
    assert refs == ["1", "2"]
    first = page.index('<li id="note-1" value="1">')
    second = page.index('<li id="note-2" value="2">')
    assert "=1+1 Telefonsystemet byttes i maj." in page[first:second]
    assert "(Män):</span> Färre frågade under semestern." in page[second:]
    assert "– Manager" in page[second:]  # the author, by full name
    assert 'href="#note-ref-2"' in page
    assert "Ej klar än" not in page  # a draft
    assert "<script>" not in page.split("</main>")[0].split("<main")[1]

    printed = client.get(f"/styrkort/{NARA}/{PERIOD}/utskrift/").text
    assert 'id="note-2"' in printed and "Färre frågade under semestern." in printed


def test_the_table_report_pdf_marks_the_values_and_lists_the_notes(client, cast, noted):
    client.force_login(cast["board"])
    response = client.get(f"/styrkort/{NARA}/{PERIOD}/rapport.pdf")
    assert response.status_code == 200
    pages = PdfReader(io.BytesIO(response.content)).pages
    text = re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in pages))
    total, split = (Indicator.objects.get(code=code).name for code in (TOTAL, SPLIT))
    # The numbered notes below Medborgare's table, in report order, with the author.
    first = text.index("1. " + re.sub(r"\s+", " ", total))
    second = text.index("2. " + re.sub(r"\s+", " ", split))
    assert first < second
    assert "=1+1 Telefonsystemet byttes i maj. – Manager" in text[first:second]
    assert "(Män): Färre frågade under semestern. – Manager" in text[second:]
    assert "Kommentarer" in text[:first]
    assert "Ej klar än" not in text  # a draft


def test_the_indicator_page_marks_the_series_cell(client, cast, noted):
    client.force_login(cast["board"])
    comment(noted, SPLIT, "women", "Förra året.", period="2021-T2")
    page = client.get(f"/styrmatt/{SPLIT}/{NARA}/{PERIOD}/").text
    # Chronological: 2021-T2 women, then 2022-T2 men; the T2 draft of women is not shown.
    assert re.findall(
        r'<li id="note-(\d)" value="\1"><span class="notes__cell">([^<]*)</span>', page
    ) == [("1", "2021-T2, kvinnor:"), ("2", "2022-T2, män:")]
    assert 'aria-label="Kommentar 2">2</a></sup>' in page
    assert "Ej klar än" not in page


def test_the_xlsx_puts_each_comment_on_its_value_cell(client, cast, noted):
    client.force_login(cast["board"])
    response = client.get(f"/styrkort/{NARA}/{PERIOD}/styrkort.xlsx")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    noted_cells = {}
    for row in sheet.iter_rows(min_row=2):
        value = row[VALUE_COLUMN - 1]
        if value.comment is not None:
            noted_cells[(row[3].value, row[5].value)] = (value.value, value.comment)
    assert set(noted_cells) == {(TOTAL, "Totalt"), (SPLIT, "Män")}
    number, note = noted_cells[(SPLIT, "Män")]
    assert number == 462  # the men's value of the row the note sits on
    assert note.text == "Färre frågade under semestern.\n– Manager"
    assert note.author == "Manager"
    # The formula-like text is a note's text, never a formula.
    assert noted_cells[(TOTAL, "Totalt")][1].text.startswith("=1+1 ")
    assert noted_cells[(TOTAL, "Totalt")][0] == 81


def test_the_reports_footnote_rows_and_the_closed_report_keep_the_comments(cast, noted):
    rows = comments_for_report(OrgUnit.objects.get(code=NARA), PERIOD)
    assert [(r.number, r.indicator, r.breakdown, r.text, r.author) for r in rows] == [
        (1, TOTAL, "total", "=1+1 Telefonsystemet byttes i maj.", "Manager"),
        (2, SPLIT, "men", "Färre frågade under semestern.", "Manager"),
    ]
    nara = OrgUnit.objects.get(code=NARA)
    freezing.close_report(actor=Actor(cast["admin"]), org_unit=nara, period=PERIOD)
    # The comment changes in the database (an operator's repair): the closed report says
    # what it said at the close.
    CellComment.objects.filter(breakdown="men").update(text="Ändrad i databasen")
    frozen = comments_for_report(nara, PERIOD)
    assert [r.text for r in frozen] == [rows[0].text, rows[1].text]
    freezing.reopen_report(actor=Actor(cast["admin"]), org_unit=nara, period=PERIOD, reason="Fel")
    from dashboard.selectors.final import shown_report

    changes = shown_report(nara, PERIOD).corrections.changes
    assert [(c.indicator, [(f.field, f.frozen, f.now) for f in c.fields]) for c in changes] == [
        (SPLIT, [("note", "Färre frågade under semestern.", "Ändrad i databasen")])
    ]
