"""A closed report is frozen (issue 9, item 3): what closing stores, that nothing after the
close changes the report (page, PDF, XLSX, `report` command, API), and that a correction
after reopening shows as "rättad efter fastställande" against the frozen version."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError
from django.db.models import Exists, OuterRef
from openpyxl import load_workbook
from pypdf import PdfReader
from rest_framework.test import APIClient

from accounts.services import create_token
from audit.models import AuditEntry, Operation, Source
from audit.services import Actor
from dashboard import freezing
from demo.nara import DATA_DIR, DEMO_PASSWORD
from divisions.models import OrgUnit
from divisions.services import OrgUnitSpec, save_org_unit, upsert_org_units
from domain.periods import Period
from indicators import editing
from indicators.models import Assessment, Measurement
from indicators.recompute import recompute_assessments
from scorecard import closing
from scorecard import editing as scorecard_editing
from scorecard.models import FrozenReport, PeriodClose, Perspective
from tests.conftest import run

PERIOD = "2022-T2"
NARA = "div_nara"
SUBTREE = [
    NARA,
    "folktandvarden",
    "primarvarden",
    "avp_arvidsjaur",
    "avp_jokkmokk",
    "avp_overtornea",
    "avp_pajala",
]
DIVISION = f"/styrkort/{NARA}/{PERIOD}/"
PDF = f"/styrkort/{NARA}/{PERIOD}/rapport.pdf"
XLSX = f"/styrkort/{NARA}/{PERIOD}/styrkort.xlsx"
REPORT_PAGE = f"/rapportera/{NARA}/{PERIOD}/"
API = f"/api/v1/reports/{NARA}/{PERIOD}/"

# The value corrected after the reopening (demo/fixtures/nara_2022_t2/measurements.csv).
CORRECTED = ("digitalen_triage", "29191", "30000")


def report(fmt: str = "text", org_unit: str = NARA) -> str:
    return run("report", "--org-unit", org_unit, "--period", PERIOD, "--format", fmt)


def admin_user():
    return get_user_model().objects.get(username="admin")


@pytest.fixture
def admin(client, demo):
    assert client.login(username="admin", password=DEMO_PASSWORD)
    return client


@pytest.fixture
def api(demo) -> APIClient:
    _token, key = create_token(user=get_user_model().objects.get(username="analytiker"), name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def pdf_text(client) -> str:
    response = client.get(PDF)
    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    # The one thing that may differ: when it was printed.
    return re.sub(r"Utskrivet \d{4}-\d\d-\d\d \d\d:\d\d", "Utskrivet (tid)", text)


def xlsx_cells(client) -> dict[str, list[tuple]]:
    response = client.get(XLSX)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def everything(client, api) -> dict:
    """The closed report wherever it is read."""
    return {
        "text": report("text"),
        "csv": report("csv"),
        "unit csv": report("csv", "avp_pajala"),
        "pdf": pdf_text(client),
        "xlsx": xlsx_cells(client),
        "api": api.get(API).json(),
        "unit api": api.get(f"/api/v1/reports/avp_pajala/{PERIOD}/").json(),
    }


def changed_definition(tmp_path: Path) -> Path:
    """Nära's 2022 scorecard, changed as a new version would be: an indicator renamed, a
    target changed, an indicator dropped, the division renamed."""
    text = (DATA_DIR / "scorecard.yaml").read_text(encoding="utf-8")
    replacements = [
        (
            'name: "Antal besök på filialer och servicepunkter"',
            'name: "Besök på filialer (nytt namn)"',
        ),
        ('name: "Division Nära", parent', 'name: "Division Nära (omorganiserad)", parent'),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    # telefon_teleq's target: 95 % -> 80 %.
    teleq = text.index("  - code: telefon_teleq\n")
    block = text[teleq : text.index("\n\n", teleq)]
    assert 'target_text: "95%"' in block and "value: 95," in block
    text = text.replace(block, block.replace('"95%"', '"80%"').replace("value: 95,", "value: 80,"))
    dropped = re.search(r"  - code: nya_filialer\n(    .*\n)+\n", text)
    assert dropped
    text = text.replace(dropped.group(0), "")
    path = tmp_path / "scorecard.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def values_file(tmp_path: Path, name: str, *rows: str) -> Path:
    path = tmp_path / name
    path.write_text("indicator,org_unit,period,breakdown,value\n" + "\n".join(rows) + "\n")
    return path


def before_close() -> None:
    """What a manager writes before the close: an analysis, an override, a samlad bedömning."""
    user = admin_user()
    nara = OrgUnit.objects.get(code=NARA)
    assessment = Assessment.objects.get(
        indicator__code="telefon_teleq", org_unit=nara, period=PERIOD
    )
    editing.update_assessment(
        user=user,
        source=Source.FORM,
        assessment=assessment,
        analysis="Telefonin är bemannad hela sommaren.",
        override_status="partly",
        override_comment="Digitala kontakter räknas inte.",
    )
    scorecard_editing.set_perspective_assessment(
        user=user,
        source=Source.FORM,
        org_unit=nara,
        perspective=Perspective.objects.get(code="medborgare"),
        period=PERIOD,
        status="partly",
        text="Tillgängligheten är god men ojämn.",
    )


# --------------------------------------------------------------------------- done when


def test_a_closed_report_stays_as_it_was_closed_and_a_correction_shows(admin, api, tmp_path):
    before_close()
    open_csv, open_api = report("csv"), api.get(API).json()
    assert not open_api["frozen"] and not open_api["corrected_after_close"]

    out = run("close_period", "--org-unit", NARA, "--period", PERIOD, "--reason", "Slutlig")
    assert "7 report(s) frozen" in out
    closed = everything(admin, api)
    # Freezing is faithful: the CSV report is the one of the open period, to the byte.
    assert closed["csv"] == open_csv
    assert closed["api"]["frozen"] and closed["api"]["lines"] == open_api["lines"]
    assert "Slutlig rapport. Fastställd för Division Nära" in closed["pdf"]

    # Everything that could change the report after the close ...
    run("load_scorecard", str(changed_definition(tmp_path)))
    upsert_org_units(
        specs=[OrgUnitSpec("div_annan", "Division Annan", "division", "region_norrbotten")]
    )
    primarvarden = OrgUnit.objects.get(code="primarvarden")
    primarvarden.parent = OrgUnit.objects.get(code="div_annan")
    save_org_unit(unit=primarvarden, actor=Actor(admin_user()))
    assert "/div_annan/primarvarden/" in OrgUnit.objects.get(code="avp_pajala").path
    for name, row in [
        ("month.csv", f"telefon_teleq,{NARA},2022-05,total,70"),
        ("tertial.csv", f"telefon_teleq,{NARA},{PERIOD},total,70"),
        ("moved.csv", f"fallskador_aldre,avp_pajala,{PERIOD},total,1"),
    ]:
        with pytest.raises(CommandError, match="rejected"):
            run("import_measurements", str(values_file(tmp_path, name, row)))
    # A month of T1 is open (T2 closes the months it adds) and recomputes telefon_teleq at
    # Nära, which must leave the closed period's assessment alone.
    march = values_file(tmp_path, "t1.csv", f"telefon_teleq,{NARA},2022-03,total,70")
    run("import_measurements", str(march))

    # ... changes nothing in it.
    assert everything(admin, api) == closed
    page = admin.get(DIVISION).text
    assert "Antal nya filialer och servicepunkter" in page  # dropped since
    assert "Antal besök på filialer och servicepunkter" in page  # renamed since
    assert "Besök på filialer (nytt namn)" not in page
    assert "Allmänmedicinska vårdplatser Pajala" not in page  # not a child of Nära's
    assert "Primärvården" in page  # moved away since, still in the drill-down as closed
    assert "Rapporten visas som den såg ut när perioden stängdes." in page
    assert "Division Nära (omorganiserad)" not in page.split("<main", 1)[-1].split("</h1>")[0]
    reporting = admin.get(REPORT_PAGE).text
    assert "Antal nya filialer och servicepunkter" in reporting
    assert "Tillgängligheten är god men ojämn." in reporting

    # Reopen (with a reason) and correct a value.
    with pytest.raises(CommandError):
        run("reopen_period", "--org-unit", NARA, "--period", PERIOD)  # no reason
    run("reopen_period", "--org-unit", NARA, "--period", PERIOD, "--reason", "Fel i triage")
    code, old, new = CORRECTED
    fix = values_file(tmp_path, "fix.csv", f"{code},{NARA},{PERIOD},total,{new}")
    run("import_measurements", str(fix))

    text = report("text")
    assert "Rättad efter fastställande" in text and "Motivering: Fel i triage" in text
    assert f"  {code} total (changed)\n      value: {old} -> {new}" in text
    assert "  nya_filialer total (removed)" in text
    header, *rows = report("csv").splitlines()
    assert header.endswith(",frozen_value,corrected")
    corrected_row = next(r for r in rows if f",{code},total," in r)
    # ... value,status,trend,value_source,coverage,national,national_year,frozen_value,
    # corrected: the value as closed, and what changed.
    assert re.search(rf",{new},\w*,\w*,\w*,[\d/]*,[\d.]*,\d*,{old},value( \w+)*$", corrected_row), (
        corrected_row
    )

    answer = api.get(API).json()
    assert answer["corrected_after_close"] and not answer["frozen"]
    assert answer["close"]["reopen_reason"] == "Fel i triage"
    change = next(c for c in answer["corrections"] if c["indicator"] == code)
    assert change["kind"] == "changed"
    assert {"field": "value", "frozen": old, "now": new} in change["fields"]
    line = next(li for li in answer["lines"] if li["indicator"] == code)
    assert line["corrected"].split()[0] == "value" and line["frozen_value"] == int(old)
    renamed = next(c for c in answer["corrections"] if c["indicator"] == "besok_filialer")
    assert {
        "field": "name",
        "frozen": "Antal besök på filialer och servicepunkter",
        "now": "Besök på filialer (nytt namn)",
    } in renamed["fields"]

    page = admin.get(DIVISION).text
    assert "Rättad efter fastställande" in page and "Fel i triage" in page
    section = page.split('id="corrections-heading"', 1)[1].split("</section>", 1)[0]
    assert f'data-correction="{code}/total"' in section
    assert "29\xa0191" in section and "30\xa0000" in section
    assert "Antal nya filialer och servicepunkter" in section  # the removed row
    assert "rättad</a>" in page  # the row itself is marked
    pdf = pdf_text(admin)
    assert "Rättad efter fastställande" in pdf and "Fel i triage" in pdf
    assert re.search(r"29\s191", pdf) and re.search(r"30\s000", pdf), pdf[:2000]
    assert "Rättad efter fastställande" in xlsx_cells(admin)


# --------------------------------------------------------------------------- closing


@pytest.mark.parametrize(
    ("period", "closed_by", "closes"),
    [
        ("2022-05", ("2022-05", "2022-T2", "2022"), ("2022-05",)),
        ("2022-04", ("2022-04", "2022-T1", "2022"), ("2022-04",)),
        ("2022-12", ("2022-12", "2022-T3", "2022"), ("2022-12",)),
        ("2022-T2", ("2022-T2",), ("2022-T2", "2022-05", "2022-06", "2022-07", "2022-08")),
        ("2022", ("2022",), ("2022", *(f"2022-{m:02d}" for m in range(1, 13)))),
    ],
)
def test_which_closes_cover_a_period(period, closed_by, closes):
    """docs/domain.md, Closing: a tertial closes the months it adds, a year all twelve."""
    assert Period.parse(period).closed_by() == closed_by
    assert Period.parse(period).closes() == closes


def test_closing_freezes_the_unit_and_every_unit_under_it_with_the_reason(admin):
    response = admin.post(f"{REPORT_PAGE}stang/", {"reason": "Fastställd av styrelsen"})
    assert response.status_code == 302
    close = PeriodClose.objects.get()
    assert close.reason == "Fastställd av styrelsen"
    frozen = FrozenReport.objects.filter(close=close).select_related("org_unit")
    assert sorted(f.org_unit.code for f in frozen) == sorted(SUBTREE)
    content = frozen.get(org_unit__code=NARA).content
    assert content["org_unit"] == {"code": NARA, "name": "Division Nära", "kind": "division"}
    line = next(li for li in content["lines"] if li["indicator"]["code"] == "digitalen_triage")
    assert (line["value"], line["target"], line["indicator"]["unit"]) == (
        "29191",
        "43 000 på helår",
        "count",
    )
    assert {line["perspective"] for line in content["lines"]} >= {"Samhälle", "Ekonomi"}
    assert content["actions"] and content["actions"][0]["goal"]
    assert [c["code"] for c in content["children"]] == ["folktandvarden", "primarvarden"]
    entry = AuditEntry.objects.get(operation=Operation.CLOSE)
    assert entry.changes["reason"] == [None, "Fastställd av styrelsen"]


def test_reopening_on_the_page_needs_a_reason(admin):
    admin.post(f"{REPORT_PAGE}stang/")
    assert PeriodClose.objects.get().reason == ""
    page = admin.get(REPORT_PAGE).text
    assert 'name="reason"' in page and "required" in page.split('id="id_reopen_reason"')[1][:80]
    admin.post(f"{REPORT_PAGE}oppna/", {"reason": "  "})
    assert closing.is_closed(OrgUnit.objects.get(code=NARA), PERIOD)
    assert "Ange varför perioden öppnas igen." in admin.get(REPORT_PAGE).text
    admin.post(f"{REPORT_PAGE}oppna/", {"reason": "Rättelse av utfall"})
    close = PeriodClose.objects.get()
    assert close.reopen_reason == "Rättelse av utfall" and close.reopened_by.username == "admin"
    entry = AuditEntry.objects.get(operation=Operation.REOPEN)
    assert entry.changes["reason"] == [None, "Rättelse av utfall"] and entry.username == "admin"


def test_reopening_without_a_reason_is_refused_by_the_service(demo):
    nara = OrgUnit.objects.get(code=NARA)
    actor = Actor(admin_user())
    freezing.close_report(actor=actor, org_unit=nara, period=PERIOD)
    with pytest.raises(closing.ReasonRequired):
        freezing.reopen_report(actor=actor, org_unit=nara, period=PERIOD, reason=" ")
    assert closing.is_closed(nara, PERIOD)


def test_the_commands_say_what_is_wrong(demo):
    with pytest.raises(CommandError, match="unknown org unit"):
        run("close_period", "--org-unit", "finns_inte", "--period", PERIOD)
    with pytest.raises(CommandError, match="not a period"):
        run("close_period", "--org-unit", NARA, "--period", "2022-T9x")
    with pytest.raises(CommandError, match=r"'chef\.nara' is not an administrator"):
        run("close_period", "--org-unit", NARA, "--period", PERIOD, "--user", "chef.nara")
    with pytest.raises(CommandError, match="not closed"):
        run("reopen_period", "--org-unit", NARA, "--period", PERIOD, "--reason", "x")
    run("close_period", "--org-unit", NARA, "--period", PERIOD, "--user", "admin")
    assert PeriodClose.objects.get().closed_by.username == "admin"
    with pytest.raises(CommandError, match="already closed"):
        run("close_period", "--org-unit", NARA, "--period", PERIOD)
    entry = AuditEntry.objects.get(operation=Operation.CLOSE)
    assert (entry.source, entry.username) == (Source.COMMAND, "admin")
    run("reopen_period", "--org-unit", NARA, "--period", PERIOD, "--reason", "Fel")
    entry = AuditEntry.objects.get(operation=Operation.REOPEN)
    assert (entry.source, entry.username) == (Source.COMMAND, "")


def test_a_month_of_a_closed_tertial_is_closed_and_one_of_an_earlier_tertial_is_not(demo):
    nara, pajala = OrgUnit.objects.get(code=NARA), OrgUnit.objects.get(code="avp_pajala")
    freezing.close_report(actor=Actor(admin_user()), org_unit=nara, period=PERIOD)
    for month in ("2022-05", "2022-08"):
        assert closing.is_closed(pajala, month)
    for period in ("2022-04", "2022-09", "2022-T1", "2022-T3", "2022"):
        assert not closing.is_closed(pajala, period), period
    is_closed_at = closing.closed_lookup()
    assert is_closed_at(pajala.path, "2022-06") and not is_closed_at(pajala.path, "2022-03")
    closing.close_period(actor=Actor(admin_user()), org_unit=nara, period="2022")
    assert closing.is_closed(pajala, "2022-03")
    assert closing.closed_lookup()(pajala.path, "2022-12")


def test_a_unit_that_moves_away_stays_closed_for_the_frozen_period(demo):
    nara = OrgUnit.objects.get(code=NARA)
    freezing.close_report(actor=Actor(admin_user()), org_unit=nara, period=PERIOD)
    region = OrgUnit.objects.get(code="region_norrbotten")
    area = OrgUnit.objects.get(code="folktandvarden")
    area.parent = region
    save_org_unit(unit=area, actor=None)
    area.refresh_from_db()
    assert not area.path.startswith(nara.path)
    close = closing.closure_for(area, PERIOD)
    assert close is not None and close.org_unit == nara
    assert closing.closed_lookup()(area.path, PERIOD)


def test_recompute_leaves_the_closed_assessments_alone(demo):
    nara = OrgUnit.objects.get(code=NARA)
    freezing.close_report(actor=Actor(admin_user()), org_unit=nara, period=PERIOD)
    fields = ("computed_status", "trend", "details", "computed_at")
    # Nära's subtree: the other division and the region are open and recomputed.
    in_nara = Assessment.objects.filter(period=PERIOD, org_unit__path__startswith=nara.path)
    closed = list(in_nara.order_by("pk").values_list(*fields))
    indicators = Assessment.objects.values_list("indicator_id", flat=True)
    assert recompute_assessments(indicator_ids=indicators) > 0
    assert list(in_nara.order_by("pk").values_list(*fields)) == closed
    freezing.reopen_report(actor=Actor(admin_user()), org_unit=nara, period=PERIOD, reason="x")
    # Those with a value are judged again (an analysis written before any value has nothing
    # to recompute: the demo's texts that explain a missing value).
    valued = Measurement.objects.filter(
        indicator=OuterRef("indicator"), org_unit=OuterRef("org_unit"), period=PERIOD
    )
    computed = in_nara.filter(Exists(valued)).values_list("computed_at", flat=True)
    assert set(computed).isdisjoint({c[-1] for c in closed})  # recomputed on reopening


# --------------------------------------------------------------------------- reading


def test_the_report_api_answers_readers_and_refuses_strangers(api, demo):
    assert APIClient().get(API).status_code == 401
    assert api.get(f"/api/v1/reports/finns_inte/{PERIOD}/").status_code == 404
    assert api.get(f"/api/v1/reports/{NARA}/2022-T9/").status_code == 404
    answer = api.get(API).json()
    assert answer["org_unit"] == NARA and answer["close"] is None
    line = next(li for li in answer["lines"] if li["indicator"] == "digitalen_triage")
    assert (line["value"], line["name"], line["breakdown"]) == (
        29191,
        "Antal slutförda triage totalt i länet på Digitalen",
        "total",
    )
    table = api.get(API, {"format": "csv"})
    assert table.status_code == 200 and table["Content-Type"].startswith("text/csv")
    header = table.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("perspective,strategic_goal,success_factor,indicator,name,unit")
    assert "frozen_value" not in header
