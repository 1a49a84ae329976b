"""Numbers, units and breakdowns the Swedish way (issue 10, item 4): decimal comma, a
no-break space between thousands and before the unit, "%", "mnkr" and "st" as the unit
says, targets with their unit, and breakdowns in words, on the page, in the PDF and XLSX."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from django.utils import translation
from openpyxl import load_workbook
from pypdf import PdfReader

from dashboard.presentation import (
    breakdown_label,
    quantity,
    target_text,
    xlsx_number_format,
)
from demo.nara import DEMO_PASSWORD

PERIOD = "2022-T2"
DIVISION = f"/styrkort/div_nara/{PERIOD}/"
NBSP = "\xa0"
RAW_CODES = ("age40_women", "share_pct", "count_vtf_total", "count_vtf_utskrivningsklara_gt1d")


@pytest.mark.parametrize(
    ("value", "unit", "breakdown", "swedish", "english"),
    [
        (Decimal("17.100000"), "percent", "women", "17,1 %", "17.1%"),
        (Decimal("-31"), "msek", "total", "-31 mnkr", "-31 MSEK"),
        (Decimal("6171"), "count", "total", "6 171 st", "6,171"),
        (Decimal("1029"), "percent", "count_vtf_total", "1 029 st", "1,029"),  # a count beside
        (Decimal("17"), "count", "share_pct", "17 %", "17%"),  # a share beside a count
        (Decimal("7"), "percent", "age40_women", "7 %", "7%"),
        (Decimal("1234.5"), "index", "total", "1 234,5", "1,234.5"),
        (None, "percent", "total", "", ""),
    ],
)
def test_a_value_with_its_unit(value, unit, breakdown, swedish, english):
    with translation.override("sv"):
        assert quantity(value, unit, breakdown) == swedish.replace(" ", NBSP)
    with translation.override("en"):
        assert quantity(value, unit, breakdown) == english.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("target", "unit", "breakdown", "shown"),
    [
        ("16", "percent", "women", "16 %"),  # a per-breakdown target is stored as a figure
        ("17.2", "percent", "men", "17,2 %"),
        ("95%", "percent", "total", "95 %"),
        ("K:16% M:17,2%", "percent", "total", "K:16 % M:17,2 %"),
        ("+/-0 mnkr", "msek", "total", "+/-0 mnkr"),
        ("Öka", "count", "total", "Öka"),
        ("", "percent", "total", ""),
    ],
)
def test_a_target_with_its_unit(target, unit, breakdown, shown):
    with translation.override("sv"):
        assert target_text(target, unit, breakdown) == shown.replace(" %", f"{NBSP}%")


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("total", "Totalt"),
        ("women", "Kvinnor"),
        ("age40_women", "Kvinnor 40 år"),
        ("age60_men", "Män 60 år"),
        ("share_pct", "Andel (%)"),
        ("count", "Antal"),
        ("count_vtf_total", "Antal vårdtillfällen"),
        ("count_vtf_utskrivningsklara_gt1d", "Antal utskrivningsklara mer än 1 dygn"),
        ("lakare", "Läkare"),
        ("count_besok_natt", "Antal, besok natt"),  # unknown: written out, never a code
        ("sjukskoterskor_natt", "Sjukskoterskor natt"),
    ],
)
def test_breakdowns_in_words(key, label):
    with translation.override("sv"):
        assert breakdown_label(key) == label
        assert "_" not in breakdown_label(key)


def test_excel_formats_keep_numbers_numbers_and_look_swedish():
    # Swedish units whatever language an earlier test left active in this thread.
    with translation.override("sv"):
        assert xlsx_number_format(Decimal("17.1"), "percent") == f'#,##0.0"{NBSP}%"'
        assert (
            xlsx_number_format(Decimal("1029"), "percent", "count_vtf_total") == f'#,##0"{NBSP}st"'
        )
        assert xlsx_number_format(Decimal("-31"), "msek") == f'#,##0"{NBSP}mnkr"'
        assert xlsx_number_format(Decimal("0.25"), "ratio") == "#,##0.00"
        assert xlsx_number_format(None, "index") == "#,##0"


# --------------------------------------------------------------------------- the report


@pytest.fixture
def board(client, demo):
    assert client.login(username="ledamot", password=DEMO_PASSWORD)
    return client


def _group(page: str, code: str) -> str:
    return re.search(rf'data-indicator="{code}".*?</tbody>', page, re.S)[0]


def _text(html: str) -> str:
    """The words of some HTML, every run of white space (the no-break ones too) one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_division_page_writes_numbers_and_units_the_swedish_way(board):
    page = board.get(DIVISION).text
    readmissions = _group(page, "aterinskrivningar_65")
    assert f"16{NBSP}%" in readmissions and f"17,1{NBSP}%" in readmissions  # never wrapped
    # Women first: its row also carries the follow-up period cell (rowspan) as the report does.
    assert "Kvinnor 16 % DÅ04, DÅ08, ÅR 17,1 %" in _text(readmissions)
    assert "Män 17,2 % 20,5 %" in _text(readmissions)
    assert f"-31{NBSP}mnkr" in _group(page, "resultat_mot_budget")
    assert f"6{NBSP}171{NBSP}st" in _group(page, "besok_filialer")
    assert "Antal vårdtillfällen 1 029 st" in _text(_group(page, "utskrivningsklara_1dygn"))
    assert "Andel (%) 17 %" in _text(_group(page, "besok_80_akut"))
    assert "Kvinnor 40 år 35 % DÅ04, DÅ08, ÅR 7 %" in _text(_group(page, "halsosamtal_40_50_60"))
    main = page[page.index("<main") :]
    for code in RAW_CODES:
        assert code not in _text(main), code  # as text: data-indicator attributes aside


def test_the_print_page_too(board):
    page = _text(board.get(f"{DIVISION}utskrift/").text)
    assert "Kvinnor: 17,1 %" in page and "-31 mnkr" in page and "16 %" in page
    # The country's value beside the period's, as on the division page (Kolada N79179,
    # Riket 2022: 81.2; demo/fixtures/kolada/recorded.json): 81 % against 81,2 %.
    assert "Riket (Kolada, helår)" in page
    assert "81 % 81,2 % (2022)" in page
    for code in RAW_CODES:
        assert code not in page, code


def test_the_pdf_writes_numbers_units_and_breakdowns_the_swedish_way(board):
    response = board.get(f"{DIVISION}rapport.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    text = re.sub(r"\s+", " ", text)  # lines wrap inside the table's cells
    for expected in (
        "Kvinnor: 17,1 %",
        "16 %",
        "17,2 %",
        "-31 mnkr",
        "6 171 st",
        "Kvinnor 40 år: 7 %",
        "Antal vårdtillfällen: 1 029 st",
        "Ej aktuellt denna period",
        "Jämförelsevärde saknas",
        "Riket (Kolada, helår)",
        "81 % 81,2 % (2022)",  # telefon_teleq: the period's value, then the country's
        "Män: 92 % 81,3 % (2022)",  # medicinsk_bedomning_3d's men (Kolada N79173, M)
    ):
        assert expected in text, expected
    for code in RAW_CODES:
        assert code not in text, code


def test_the_xlsx_keeps_numbers_as_numbers_with_swedish_formats(board):
    book = load_workbook(io.BytesIO(board.get(f"{DIVISION}styrkort.xlsx").content))
    sheet = book["Styrkort"]
    header = [c.value for c in sheet[1]]
    code, breakdown, target = (header.index(n) for n in ("Kod", "Uppdelning", "Mål"))
    value = header.index("Periodens utfall")
    rows = {(r[code].value, r[breakdown].value): r for r in sheet.iter_rows(min_row=2)}
    women = rows[("aterinskrivningar_65", "Kvinnor")]
    assert women[value].value == pytest.approx(17.1)
    assert women[value].number_format == f'#,##0.0"{NBSP}%"'
    assert women[target].value == f"16{NBSP}%"
    count = rows[("utskrivningsklara_1dygn", "Antal vårdtillfällen")]
    assert (count[value].value, count[value].number_format) == (1029, f'#,##0"{NBSP}st"')
    result = rows[("resultat_mot_budget", "Totalt")]
    assert (result[value].value, result[value].number_format) == (-31, f'#,##0"{NBSP}mnkr"')
    assert ("halsosamtal_40_50_60", "Kvinnor 40 år") in rows
    # The country's value and its year in new columns at the end: the others keep their
    # places (Kolada, Riket 2022: N79179 81.2, N79173 men 81.3).
    assert header[:9] == [
        "Perspektiv",
        "Strategiskt mål",
        "Framgångsfaktor",
        "Kod",
        "Styrmått",
        "Uppdelning",
        "Mål",
        "Uppföljningsperiod",
        "Periodens utfall",
    ]
    assert header[-3:] == ["Analys", "Riket (Kolada, helår)", "Riket, år"]
    phone = rows[("telefon_teleq", "Totalt")]
    assert [c.value for c in phone[-2:]] == [pytest.approx(81.2), 2022]
    assert phone[-2].number_format == f'#,##0.0"{NBSP}%"'
    men = rows[("medicinsk_bedomning_3d", "Män")]
    assert [c.value for c in men[-2:]] == [pytest.approx(81.3), 2022]
    assert [c.value for c in women[-2:]] == [None, None]  # not in Kolada
    for (_code, label), _row in rows.items():
        assert "_" not in label
    # The counts per perspective: every state a column, the words as on the page.
    summary = book["Perspektiv"]
    assert [c.value for c in summary[1]][3:10] == [
        "Uppfyllt",
        "Delvis uppfyllt",
        "Ej uppfyllt",
        "Utfall saknas",
        "Jämförelsevärde saknas",
        "Ej aktuellt denna period",
        "Följs upp",
    ]
