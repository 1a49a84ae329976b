"""The tertial report as a document (issue 14, parts 2 and 3): Nära 2022-T2 as DOCX and as
tagged PDF, read back (python-docx, pdftotext); a closed period's document is the frozen
one; computed and judged side by side, a justification where they differ."""

from __future__ import annotations

import io
import re
import subprocess

import docx
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from docx.oxml.ns import qn
from pypdf import PdfReader

from audit.models import AuditEntry, Source
from dashboard.selectors.final import report_page
from demo.nara import DEMO_PASSWORD
from divisions.models import OrgUnit
from indicators.models import Assessment, Indicator, Measurement
from scorecard import editing
from scorecard.models import Action, FrozenReport, Perspective, PerspectiveAssessment
from tests.conftest import run

PERIOD = "2022-T2"
NARA = "div_nara"
DOCX = f"/styrkort/{NARA}/{PERIOD}/rapport.docx"
PDF = f"/styrkort/{NARA}/{PERIOD}/tertialrapport.pdf"
PERSPECTIVES = ["Samhälle", "Medborgare", "Verksamhet", "Medarbetare", "Ekonomi"]
SYMBOLS = {
    "fulfilled": "● Uppfyllt",
    "partly": "◐ Delvis uppfyllt",
    "not_fulfilled": "○ Ej uppfyllt",
    "no_data": "– Utfall saknas",
    "no_reference": "◇ Jämförelsevärde saknas",
    "not_due": "◌ Ej aktuellt denna period",
    "not_assessed": "· Följs upp",
    "": "",
}
JUSTIFICATION = "Telefontillgängligheten väger tyngst för invånarna."
ASSESSMENT = "Tillgängligheten är god men ojämn."
INDICATOR_HEADER = [
    "Framgångsfaktor",
    "Styrmått",
    "Mål",
    "Uppföljningsperiod",
    "Periodens utfall",
    "Måluppfyllelse",
    "Utveckling",
]


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


@pytest.fixture
def admin(client, demo):
    assert client.login(username="admin", password=DEMO_PASSWORD)
    return client


def judge_medborgare() -> None:
    """Nära's Medborgare rolls up to "partly" (3 fulfilled, 1 partly, 3 not fulfilled);
    the manager judges it not fulfilled and says why."""
    editing.set_perspective_assessment(
        user=get_user_model().objects.get(username="admin"),
        source=Source.FORM,
        org_unit=OrgUnit.objects.get(code=NARA),
        perspective=Perspective.objects.get(code="medborgare"),
        period=PERIOD,
        status="not_fulfilled",
        text=ASSESSMENT,
        justification=JUSTIFICATION,
    )


def read_docx(client) -> docx.document.Document:
    response = client.get(DOCX)
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="tertialrapport_{NARA}_{PERIOD}.docx"'
    )
    return docx.Document(io.BytesIO(response.content))


def docx_text(document) -> str:
    """Every paragraph and cell, in order; the creation time left out."""
    parts = [p.text for p in document.paragraphs if not p.text.startswith("Skapad ")]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    return "\n".join(parts)


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "rapport.pdf"
    path.write_bytes(content)
    done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True)
    assert done.returncode == 0, done.stderr
    # The page numbers in the footer, which fall inside texts that run over a page.
    return squash(re.sub(r"\n\d+ / \d+\n", "\n", done.stdout.decode("utf-8")))


def in_order(text: str, items: list[str]) -> list[str]:
    """The items not found in `text` one after the other (each after the one before)."""
    missing, at = [], 0
    for item in items:
        found = text.find(squash(item), at)
        if found < 0:
            missing.append(item)
        else:
            at = found + len(squash(item))
    return missing


def expected_rows() -> list[tuple[str, str]]:
    """(indicator name on its first row, status as symbol and word) per report row."""
    page = report_page(OrgUnit.objects.get(code=NARA), PERIOD)
    return [
        (line.indicator.name if line.first_of_indicator else "", SYMBOLS[line.status])
        for line in page.lines
    ]


# --------------------------------------------------------------------------- done when


def test_nara_2022_t2_as_docx_and_tagged_pdf(admin, tmp_path):
    judge_medborgare()
    nara = OrgUnit.objects.get(code=NARA)
    rows = expected_rows()
    analyses = list(
        Assessment.objects.filter(org_unit=nara, period=PERIOD)
        .exclude(analysis="")
        .values_list("analysis", flat=True)
    )
    actions = list(Action.objects.filter(org_unit=nara).values_list("description", flat=True))
    # The scorecard's 46 indicators in 64 breakdowns, 25 analyses and 30 actions
    # (demo/fixtures/nara_2022_t2: scorecard.yaml, analyses.yaml, actions.csv).
    assert len(rows) == 64 and len([name for name, _status in rows if name]) == 46
    assert len(analyses) == 25 and len(actions) == 30

    # --- DOCX
    document = read_docx(admin)
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name != "Normal"]
    assert ("Title", f"Tertialrapport {PERIOD} – Division Nära") in headings
    assert ("Heading 1", "Måluppfyllelse i perspektiv") in headings
    assert [t for s, t in headings if s == "Heading 1"][1:] == [
        f"Perspektiv {name}" for name in PERSPECTIVES
    ]
    indicator_tables = [
        t for t in document.tables if [c.text for c in t.rows[0].cells] == INDICATOR_HEADER
    ]
    body = [row for table in indicator_tables for row in table.rows[1:]]
    assert len(body) == len(rows)
    for row, (name, status) in zip(body, rows, strict=True):
        cells = [cell.text for cell in row.cells]
        assert cells[5] == status
        if name:
            assert cells[1] == name
    # By hand from the report: 6 171 visits, fulfilled and improved.
    visits = next(r for r in body if r.cells[1].text.startswith("Antal besök på filialer"))
    assert [c.text for c in visits.cells[4:]] == ["6\xa0171\xa0st", "● Uppfyllt", "↑ Förbättrad"]
    for table in document.tables:  # a real header row, repeated on every page
        header = table.rows[0]._tr.trPr.find(qn("w:tblHeader"))
        assert header is not None and header.get(qn("w:val")) == "true"
    text = squash(docx_text(document))
    assert all(squash(a) in text for a in analyses)
    assert all(squash(a) in text for a in actions)
    # Computed and judged side by side, with the justification.
    summary = document.tables[0]
    medborgare = next(r for r in summary.rows if r.cells[0].text == "Medborgare")
    assert [c.text for c in medborgare.cells[1:5]] == [
        "○ Ej uppfyllt",
        "◐ Delvis uppfyllt",
        "○ Ej uppfyllt",
        JUSTIFICATION,
    ]
    assert ASSESSMENT in text
    languages = document.styles.element.findall(f".//{qn('w:rPrDefault')}//{qn('w:lang')}")
    assert [lang.get(qn("w:val")) for lang in languages] == ["sv-SE"]
    props = document.core_properties
    assert props.title == f"Tertialrapport {PERIOD} – Division Nära"
    assert props.author == "Region Norrbotten, Division Nära" and props.created is not None

    # --- PDF
    response = admin.get(PDF)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    catalog = PdfReader(io.BytesIO(response.content)).trailer["/Root"]
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "sv-SE"
    text = pdf_text(response.content, tmp_path)
    assert not in_order(text, [f"Perspektiv {name}" for name in PERSPECTIVES])
    # Every row with its status (pdftotext reads a table's columns in blocks and a page's
    # blocks in an order of its own: the DOCX above checks them row by row).
    assert not [name for name, _status in rows if name and squash(name) not in text]
    for status in {status for _name, status in rows if status}:
        assert text.count(status) >= [s for _n, s in rows].count(status), status
    assert not [a for a in analyses if squash(a) not in text]
    # An action's cell may run over a page, where the table's header repeats: its start.
    assert not [a for a in actions if squash(a)[:80] not in text]
    assert f"Motivering {JUSTIFICATION}" in text or JUSTIFICATION in text
    assert ASSESSMENT in text


def test_a_closed_period_document_is_the_frozen_one(admin):
    judge_medborgare()
    run("close_period", "--org-unit", NARA, "--period", PERIOD, "--reason", "Slutlig")
    closed = docx_text(read_docx(admin))
    assert "Slutlig rapport. Fastställd för Division Nära" in closed
    assert JUSTIFICATION in closed

    # What would change a live report: a value, an indicator's name, the assessment.
    Measurement.objects.filter(
        indicator__code="besok_filialer", org_unit__code=NARA, period=PERIOD
    ).update(value=1)
    Indicator.objects.filter(code="besok_filialer").update(name="Nytt namn")
    PerspectiveAssessment.objects.update(justification="Ändrad efter stängning")
    assert docx_text(read_docx(admin)) == closed

    # A report frozen before justifications were recorded still reads: none is shown.
    for frozen in FrozenReport.objects.filter(org_unit__code=NARA):
        for cell in frozen.content["perspectives"]:
            cell.pop("computed", None)
            if cell["assessment"]:
                cell["assessment"].pop("justification", None)
        frozen.save(update_fields=["content"])
    older = docx_text(read_docx(admin))
    assert JUSTIFICATION not in older and "Ingen motivering är skriven." in older


def test_the_report_command_writes_the_document(demo, tmp_path):
    path = tmp_path / "nara.docx"
    out = run(
        "report", "--org-unit", NARA, "--period", PERIOD, "--format", "docx", "--output", str(path)
    )
    assert out.startswith(f"{path}: ")
    headings = [p.text for p in docx.Document(str(path)).paragraphs if p.style.name == "Heading 1"]
    assert headings[1:] == [f"Perspektiv {name}" for name in PERSPECTIVES]
    with pytest.raises(CommandError, match="give --output FILE"):
        run("report", "--org-unit", NARA, "--period", PERIOD, "--format", "pdf")


def test_hostile_and_huge_texts_do_not_break_the_document(admin, tmp_path):
    nara = OrgUnit.objects.get(code=NARA)
    hostile = '=HYPERLINK("http://x")\x01\x07\x0b <b>fet</b> &amp; \x1b[31m'
    Assessment.objects.filter(
        org_unit=nara, period=PERIOD, indicator__code="besok_filialer"
    ).update(analysis=hostile)
    Assessment.objects.filter(org_unit=nara, period=PERIOD, indicator__code="nya_filialer").update(
        analysis="lång " * 30_000
    )
    text = docx_text(read_docx(admin))
    assert '=HYPERLINK("http://x") <b>fet</b> &amp; [31m' in text
    assert "(texten är avkortad)" in text
    response = admin.get(PDF)
    assert response.status_code == 200
    assert '=HYPERLINK("http://x") <b>fet</b> &amp; [31m' in pdf_text(response.content, tmp_path)


# --------------------------------------------------------------------------- part 3


def test_a_judgement_other_than_the_roll_up_needs_a_justification(admin):
    url = f"/rapportera/{NARA}/{PERIOD}/perspektiv/medborgare/"
    page = admin.get(url).text
    assert "Beräknad sammanvägning av styrmåtten" in page and "Delvis uppfyllt" in page
    response = admin.post(url, {"status": "not_fulfilled", "text": ASSESSMENT})
    assert response.status_code == 400
    assert (
        "Du har valt Ej uppfyllt men sammanvägningen av styrmåtten är Delvis uppfyllt."
        in response.text
    )
    assert not PerspectiveAssessment.objects.exists()
    # The same status as the roll-up needs none.
    assert admin.post(url, {"status": "partly", "text": ASSESSMENT}).status_code == 302
    response = admin.post(
        url, {"status": "not_fulfilled", "text": ASSESSMENT, "justification": JUSTIFICATION}
    )
    assert response.status_code == 302
    item = PerspectiveAssessment.objects.get()
    assert (item.status, item.justification) == ("not_fulfilled", JUSTIFICATION)
    entry = AuditEntry.objects.filter(object_id=str(item.pk), source=Source.FORM).latest("at")
    assert entry.changes["justification"] == ["", JUSTIFICATION]

    division = squash(re.sub(r"<[^>]+>", " ", admin.get(f"/styrkort/{NARA}/{PERIOD}/").text))
    assert f"Motivering till avvikelsen: {JUSTIFICATION}" in division
    assert "Beräknad sammanvägning av styrmåtten: ◐ Delvis uppfyllt" in division
    printed = squash(
        re.sub(r"<[^>]+>", " ", admin.get(f"/styrkort/{NARA}/{PERIOD}/utskrift/").text)
    )
    assert f"Motivering till avvikelsen: {JUSTIFICATION}" in printed
    overview = admin.get(f"/oversikt/{PERIOD}/").text
    cell = overview[overview.index(f"/styrkort/{NARA}/{PERIOD}/#perspective-medborgare") :]
    cell = squash(re.sub(r"<[^>]+>", " ", cell[: cell.index("</td>")]))
    assert "○ Ej uppfyllt" in cell and "beräknad: ◐ Delvis uppfyllt" in cell

    answer = admin.get("/api/v1/perspective-assessments/").json()
    rows = answer["results"] if isinstance(answer, dict) else answer
    assert [r["justification"] for r in rows] == [JUSTIFICATION]
