"""The tertial report as a document (issue 14, parts 2 and 3): Nära 2022-T2 as DOCX and as
tagged PDF, read back (python-docx, pdftotext); a closed period's document is the frozen
one; computed and judged side by side, a justification where they differ."""

from __future__ import annotations

import io
import re
import subprocess

import docx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from docx.oxml.ns import qn
from pypdf import PdfReader

from audit.models import AuditEntry, Source
from benchmarks.models import BenchmarkValue
from dashboard.selectors.final import report_page
from demo.nara import DEMO_PASSWORD
from divisions.models import OrgUnit
from indicators.comments import save_comment
from indicators.models import Assessment, CellComment, CommentState, Indicator, Measurement
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
# The demo loads Kolada's values for the two indicators Nära maps, so the tables have the
# country's column, as the division page does.
INDICATOR_HEADER = [
    "Framgångsfaktor",
    "Styrmått",
    "Mål",
    "Uppföljningsperiod",
    "Periodens utfall",
    "Riket (Kolada, helår)",
    "Måluppfyllelse",
    "Utveckling",
]
STATUS = INDICATOR_HEADER.index("Måluppfyllelse")
NATIONAL = INDICATOR_HEADER.index("Riket (Kolada, helår)")
VALUE = INDICATOR_HEADER.index("Periodens utfall")
# Kolada's latest national values (demo/fixtures/kolada/recorded.json, area 0000, 2022):
# N79179 (telefon_teleq) T 81.2; N79173 (medicinsk_bedomning_3d) T 82.6, K 83.8, M 81.3.
PHONE = "Telefon-TeleQ"
ASSESSED = "Andel medicinsk bedömning"
NATIONAL_VALUES = {
    PHONE: ["81,2\xa0% (2022)"],
    ASSESSED: ["82,6\xa0% (2022)", "83,8\xa0% (2022)", "81,3\xa0% (2022)"],
}
PHONE_NOTE = "Telefonsystemet byttes i maj."
ASSESSED_NOTE = "Männen sökte\nsenare i år."
DRAFT = "Ej klar än, utkast."


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


def indicator_rows(document) -> list:
    tables = [t for t in document.tables if [c.text for c in t.rows[0].cells] == INDICATOR_HEADER]
    return [row for table in tables for row in table.rows[1:]]


def rows_of(body, start: str) -> list[list[str]]:
    """The cells of an indicator's rows (its breakdowns) in the DOCX's tables."""
    at = next(i for i, r in enumerate(body) if r.cells[1].text.startswith(start))
    rows = [body[at]]
    for row in body[at + 1 :]:  # a merged cell reads the same on each row it spans
        if row.cells[1].text != rows[0].cells[1].text:
            break
        rows.append(row)
    return [[c.text for c in row.cells] for row in rows]


def write_comments() -> str:
    """Two published comments (telefon_teleq before medicinsk_bedomning_3d's men in the
    report's order: notes 1 and 2) and a draft, which no reader sees."""
    admin = get_user_model().objects.get(username="admin")
    nara = OrgUnit.objects.get(code=NARA)
    for code, breakdown, text, state in [
        ("medicinsk_bedomning_3d", "men", ASSESSED_NOTE, CommentState.PUBLISHED),
        ("telefon_teleq", "total", PHONE_NOTE, CommentState.PUBLISHED),
        ("medicinsk_bedomning_3d", "women", DRAFT, CommentState.DRAFT),
    ]:
        save_comment(
            user=admin,
            indicator=Indicator.objects.get(code=code),
            org_unit=nara,
            period=PERIOD,
            breakdown=breakdown,
            text=text,
            state=state,
        )
    return admin.get_full_name() or admin.username


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
    body = indicator_rows(document)
    assert len(body) == len(rows)
    for row, (name, status) in zip(body, rows, strict=True):
        cells = [cell.text for cell in row.cells]
        assert cells[STATUS] == status
        if name:
            assert cells[1] == name
    # By hand from the report: 6 171 visits, fulfilled and improved; not in Kolada.
    visits = next(r for r in body if r.cells[1].text.startswith("Antal besök på filialer"))
    assert [c.text for c in visits.cells[4:]] == [
        "6\xa0171\xa0st",
        "–",
        "● Uppfyllt",
        "↑ Förbättrad",
    ]
    for start, national in NATIONAL_VALUES.items():
        assert [cells[NATIONAL] for cells in rows_of(body, start)] == national
    assert sum(r.cells[NATIONAL].text != "–" for r in body) == 4
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
    # A name wrapped at its hyphen ("gap-|analyser") reads without it ("gapanalyser").
    dehyphenated = text.replace("-", "")
    assert not [
        name
        for name, _status in rows
        if name and squash(name) not in text and squash(name).replace("-", "") not in dehyphenated
    ]
    for status in {status for _name, status in rows if status}:
        assert text.count(status) >= [s for _n, s in rows].count(status), status
    assert not [a for a in analyses if squash(a) not in text]
    # An action's cell may run over a page, where the table's header repeats: its start.
    assert not [a for a in actions if squash(a)[:80] not in text]
    assert f"Motivering {JUSTIFICATION}" in text or JUSTIFICATION in text
    assert ASSESSMENT in text
    assert "Riket (Kolada, helår)" in text
    for national in NATIONAL_VALUES.values():
        assert all(squash(value) in text for value in national), national


def test_published_comments_are_numbered_footnotes_drafts_are_not(admin, tmp_path):
    author = write_comments()
    document = read_docx(admin)
    body = indicator_rows(document)
    phone = body[next(i for i, r in enumerate(body) if r.cells[1].text.startswith(PHONE))]
    # The value cell ends in the note's number, superscript.
    marker = phone.cells[VALUE].paragraphs[0].runs[-1]
    assert (marker.text, marker.font.superscript) == ("1", True)
    assert phone.cells[VALUE].text == "81\xa0%1"
    men = rows_of(body, ASSESSED)[2]
    assert men[VALUE].endswith("%2") and men[VALUE].startswith("Män: ")
    women = rows_of(body, ASSESSED)[1]
    assert not women[VALUE].endswith(("1", "2", "3"))
    # The numbered notes below the table: number, cell, text and author.
    paragraphs = [p.text for p in document.paragraphs]
    phone_name = Indicator.objects.get(code="telefon_teleq").name
    assessed_name = Indicator.objects.get(code="medicinsk_bedomning_3d").name
    assert f"1. {phone_name}: {PHONE_NOTE} – {author}" in paragraphs
    assert f"2. {assessed_name} (Män): Männen sökte\nsenare i år. – {author}" in paragraphs
    notes = paragraphs.index(f"1. {phone_name}: {PHONE_NOTE} – {author}")
    assert paragraphs[notes - 1] == "Kommentarer"
    assert DRAFT not in docx_text(document)

    response = admin.get(PDF)
    assert response.status_code == 200
    text = pdf_text(response.content, tmp_path)
    assert f"1. {squash(phone_name)}: {PHONE_NOTE} – {author}" in text
    assert f"2. {squash(assessed_name)} (Män): Männen sökte senare i år. – {author}" in text
    assert "81 %1" in text  # the marked value cell
    assert DRAFT not in text


def test_a_closed_period_document_is_the_frozen_one(admin):
    judge_medborgare()
    author = write_comments()
    run("close_period", "--org-unit", NARA, "--period", PERIOD, "--reason", "Slutlig")
    closed = docx_text(read_docx(admin))
    assert "Slutlig rapport. Fastställd för Division Nära" in closed
    assert JUSTIFICATION in closed
    assert f"{PHONE_NOTE} – {author}" in closed and "81,2\xa0% (2022)" in closed

    # What would change a live report: a value, an indicator's name, the assessment.
    Measurement.objects.filter(
        indicator__code="besok_filialer", org_unit__code=NARA, period=PERIOD
    ).update(value=1)
    Indicator.objects.filter(code="besok_filialer").update(name="Nytt namn")
    PerspectiveAssessment.objects.update(justification="Ändrad efter stängning")
    # ... and the country's value or a comment (changed in the database, as the write path
    # refuses while the period is closed).
    BenchmarkValue.objects.filter(kpi_id="N79179").update(value=1)
    CellComment.objects.update(text="Ändrad efter stängning")
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


def test_the_division_page_says_which_file_is_which(admin):
    """Two PDFs: the table report (ReportLab) and the accessible document; each link names
    what it gives, in Swedish and in English."""

    def links(page: str) -> dict[str, str]:
        found = re.findall(r'<a href="([^"]+)">([^<]+)</a>', page)
        return {text: href for href, text in found if href.endswith((".pdf", ".docx"))}

    base = f"/styrkort/{NARA}/{PERIOD}/"
    assert links(admin.get(base).text) == {
        "Måluppfyllelse i perspektiv (PDF)": f"{base}rapport.pdf",
        "Tertialrapport (Word)": DOCX,
        "Tertialrapport (PDF, tillgänglig)": PDF,
    }
    assert links(admin.get(f"{base}utskrift/").text) == {
        "Måluppfyllelse i perspektiv (PDF)": f"{base}rapport.pdf"
    }
    region = OrgUnit.objects.get(parent=None)
    files = f"/styrkort/{region.code}/{PERIOD}/"
    assert links(admin.get(f"/oversikt/{PERIOD}/").text) == {
        f"Tertialrapport för {region.name} (Word)": f"{files}rapport.docx",
        f"Tertialrapport för {region.name} (PDF, tillgänglig)": f"{files}tertialrapport.pdf",
    }
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert links(admin.get(base).text) == {
        "Goal fulfilment by perspective (PDF)": f"{base}rapport.pdf",
        "Tertial report (Word)": DOCX,
        "Tertial report (PDF, accessible)": PDF,
    }
