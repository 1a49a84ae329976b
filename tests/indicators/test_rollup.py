"""Figures add up the organisation tree with their coverage (issue: a region, not one division).

Every expected number below is worked out by hand in the comments.
"""

from decimal import Decimal

import pytest
from django.core.management.base import CommandError

from domain.rollup import Aggregation, Figure, roll_up
from indicators.models import Aggregate, Assessment, Import
from tests.conftest import run

# ------------------------------------------------------------------------ the pure rule

TREE = {
    "region": ["div"],
    "div": ["area_a", "area_b"],
    "area_a": ["hc1", "hc2", "hc3"],
    "area_b": ["hc4"],
}


def test_shares_add_up_from_numerators_and_denominators_with_their_coverage():
    figures = {
        "hc1": Figure(Decimal(90), Decimal(90), Decimal(100)),
        "hc2": Figure(Decimal(90), Decimal(180), Decimal(200)),
        # a share without its numerator and denominator cannot be added up: missing
        "hc3": Figure(Decimal(50)),
    }
    result = roll_up(TREE, "region", figures, Aggregation.RATIO, percent=True)
    area = result["area_a"]
    assert area.figure == Figure(Decimal("90.000000"), Decimal(270), Decimal(300))
    assert area.covered == ("hc1", "hc2") and area.missing == ("hc3",)
    assert "area_b" not in result  # nothing below it reported
    assert result["div"].expected == ("hc1", "hc2", "hc3", "hc4")
    assert result["div"].missing == ("hc3", "hc4")
    assert result["region"].figure.value == Decimal("90.000000")


def test_counts_sum_and_a_units_own_figure_wins_and_covers_its_units():
    figures = {
        "hc1": Figure(Decimal(10)),
        "hc2": Figure(Decimal(5)),
        "area_a": Figure(Decimal(100)),  # the area reported its own total
        "hc4": Figure(Decimal(7)),
    }
    result = roll_up(TREE, "region", figures, Aggregation.SUM)
    assert result["area_a"].figure.value == 15  # what its units add up to, shown beside
    assert result["div"].figure.value == 107  # the area's own 100 + hc4's 7
    assert result["div"].complete  # the area's own figure stands for hc1..hc3
    assert result["region"].covered == ("hc1", "hc2", "hc3", "hc4")


def test_only_units_that_report_the_indicator_are_expected():
    figures = {"hc1": Figure(Decimal(3))}
    result = roll_up(TREE, "region", figures, Aggregation.SUM, reporters={"hc1", "hc2"})
    assert result["div"].expected == ("hc1", "hc2")  # hc3, hc4 never report it
    assert result["div"].missing == ("hc2",)


def test_means_are_weighted_by_their_denominator():
    figures = {
        "hc1": Figure(Decimal(10), None, Decimal(1)),  # 10 days for 1 patient
        "hc2": Figure(Decimal(40), None, Decimal(3)),  # 40 days for 3 patients
    }
    # (10 x 1 + 40 x 3) / 4 = 32.5
    assert roll_up(TREE, "div", figures, Aggregation.WEIGHTED_MEAN)["area_a"].figure == Figure(
        Decimal("32.500000"), None, Decimal(4)
    )


def test_an_indicator_that_does_not_aggregate_has_no_sums():
    assert roll_up(TREE, "region", {"hc1": Figure(Decimal(1))}, Aggregation.NONE) == {}


# ------------------------------------------------- imported unit values up to the region

CSV_HEADER = "indicator,org_unit,period,breakdown,value,numerator,denominator,comment\n"


@pytest.fixture
def unit_values(nara_scorecard, tmp_path):
    """Unit-level values only: three of Primärvården's four units (Pajala reported the
    share a year earlier, so it is expected), and two counts."""
    path = tmp_path / "units.csv"
    path.write_text(
        CSV_HEADER
        + "telefon_teleq,avp_arvidsjaur,2023-T1,total,90,90,100,\n"
        + "telefon_teleq,avp_overtornea,2023-T1,total,90,180,200,\n"
        + "telefon_teleq,avp_jokkmokk,2023-T1,total,96.67,290,300,\n"
        + "telefon_teleq,avp_pajala,2022-T1,total,50,5,10,\n"
        + "besok_filialer,avp_arvidsjaur,2022-T1,total,10,,,\n"
        + "besok_filialer,avp_pajala,2022-T1,total,5,,,\n"
        + "besok_filialer,avp_arvidsjaur,2023-T1,total,12,,,\n"
        + "besok_filialer,avp_pajala,2023-T1,total,4,,,\n",
        encoding="utf-8",
    )
    out = run("import_measurements", str(path))
    assert "8 created" in out
    return path


def _sum(code, unit, period="2023-T1", breakdown="total"):
    return Aggregate.objects.get(
        indicator__code=code, org_unit__code=unit, period=period, breakdown=breakdown
    )


def _status(code, unit, period="2023-T1"):
    return Assessment.objects.get(indicator__code=code, org_unit__code=unit, period=period).status


def test_unit_values_add_up_to_area_division_and_region_with_coverage(unit_values):
    # 90 + 180 + 290 = 560 of 100 + 200 + 300 = 600 -> 93.333333 %
    area = _sum("telefon_teleq", "primarvarden")
    assert (area.numerator, area.denominator, area.value) == (560, 600, Decimal("93.333333"))
    assert (area.covered, area.expected, area.missing_units) == (3, 4, ["avp_pajala"])
    # Folktandvården (an area without units) never reports the share: not expected.
    division = _sum("telefon_teleq", "div_nara")
    assert division.value == Decimal("93.333333")
    assert (division.covered, division.expected, division.missing_units) == (3, 4, ["avp_pajala"])
    region = _sum("telefon_teleq", "region_norrbotten")
    assert (region.covered, region.expected) == (3, 4)
    # Target at least 95 %, band 9.5: 93.33 is partly, a unit's 90 partly, 96.67 fulfilled.
    assert _status("telefon_teleq", "primarvarden") == "partly"
    assert _status("telefon_teleq", "div_nara") == "partly"
    assert _status("telefon_teleq", "avp_jokkmokk") == "fulfilled"
    assert _status("telefon_teleq", "avp_arvidsjaur") == "partly"


def test_counts_sum_and_are_judged_against_the_year_before(unit_values):
    # 10 + 5 = 15 in 2022-T1; 12 + 4 = 16 in 2023-T1: "Öka" is met (16 > 15).
    assert _sum("besok_filialer", "primarvarden", "2022-T1").value == 15
    assert _sum("besok_filialer", "div_nara").value == 16
    assert _sum("besok_filialer", "div_nara").covered == 2
    assert _status("besok_filialer", "div_nara") == "fulfilled"
    assert _status("besok_filialer", "avp_pajala") == "not_fulfilled"  # 5 -> 4


def test_an_imported_value_at_a_level_wins_and_both_are_kept(unit_values, tmp_path):
    path = tmp_path / "area.csv"
    path.write_text(CSV_HEADER + "telefon_teleq,primarvarden,2023-T1,total,97,,,\n")
    run("import_measurements", str(path))
    assert _status("telefon_teleq", "primarvarden") == "fulfilled"  # its own 97 %
    assert _sum("telefon_teleq", "primarvarden").value == Decimal("93.333333")  # still there
    # The division now adds the area's own 97 % - without numerator and denominator a
    # share cannot be added, so the division's share is missing Primärvården altogether.
    assert not Aggregate.objects.filter(
        indicator__code="telefon_teleq", org_unit__code="div_nara", period="2023-T1"
    ).exists()


def test_area_and_division_pages_show_the_sums_and_their_coverage(unit_values, client):
    from tests.cast import make_user

    client.force_login(make_user("ledamot", "board_member", None))
    board = client
    page = board.get("/styrkort/primarvarden/2023-T1/").text
    assert "93,3" in page and "summerat från 3 av 4 enheter" in page
    indicator = board.get("/styrmatt/telefon_teleq/div_nara/2023-T1/").text
    assert "3 av 4 enheter" in indicator
    assert "Allmänmedicinska vårdplatser Pajala" in indicator  # a missing unit, by name


def test_the_report_says_which_figures_are_sums(unit_values):
    import csv
    import io

    out = run("report", "--org-unit", "div_nara", "--period", "2023-T1", "--format", "csv")
    rows = {r["indicator"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["telefon_teleq"]["value"] == "93.333333"
    assert rows["telefon_teleq"]["value_source"] == "units"
    assert rows["telefon_teleq"]["coverage"] == "3/4"
    assert rows["telefon_teleq"]["status"] == "partly"


def test_a_value_off_every_scorecard_above_the_unit_is_a_row_error(nara_scorecard, tmp_path):
    from divisions.models import OrgUnit
    from indicators.catalogue import copy_scorecard
    from indicators.models import Measurement
    from scorecard.models import Scorecard
    from tests.factories import OrgUnitFactory

    region = OrgUnit.objects.get(code="region_norrbotten")
    OrgUnitFactory(code="div_annan", kind="division", parent=region)
    path = tmp_path / "annan.csv"
    path.write_text(CSV_HEADER + "telefon_teleq,div_annan,2023-T1,total,80,80,100,\n")
    with pytest.raises(CommandError, match="rejected, nothing was imported"):
        run("import_measurements", str(path))
    [error] = Import.objects.latest("pk").errors
    assert error["message"] == (
        "telefon_teleq is not on the scorecard of 'div_annan' or of a unit above it in 2023"
    )
    assert not Measurement.objects.filter(org_unit__code="div_annan").exists()
    # Once the region's own scorecard follows the indicator, Annan's value adds up there.
    copy_scorecard(Scorecard.objects.get(org_unit__code="div_nara"), org_unit=region, year=2023)
    run("import_measurements", str(path))
    assert Measurement.objects.filter(org_unit__code="div_annan").count() == 1
    # Region: Nära has nothing for 2023-T1, Annan 80 of 100; Annan is the one that reports.
    region_sum = _sum("telefon_teleq", "region_norrbotten")
    assert (region_sum.value, region_sum.covered, region_sum.expected) == (80, 1, 1)
    assert _status("telefon_teleq", "region_norrbotten") == "not_fulfilled"  # 80 < 95 - 9.5


def test_a_closed_period_keeps_its_sums_and_the_frozen_report_its_coverage(unit_values, tmp_path):
    from audit.services import Actor
    from dashboard.freezing import close_report
    from divisions.models import OrgUnit
    from tests.cast import make_user

    admin = make_user("admin", "administrator", None)
    before = run("report", "--org-unit", "div_nara", "--period", "2023-T1", "--format", "csv")
    close_report(
        actor=Actor(admin), org_unit=OrgUnit.objects.get(code="div_nara"), period="2023-T1"
    )
    frozen_sum = _sum("telefon_teleq", "div_nara")
    # A new unit value for 2023-T1 would change the sums: the close refuses it, and a
    # recompute (another period's import) leaves the closed sums as they were.
    path = tmp_path / "late.csv"
    path.write_text(CSV_HEADER + "telefon_teleq,avp_pajala,2023-T2,total,10,1,10,\n")
    run("import_measurements", str(path))
    assert _sum("telefon_teleq", "div_nara").computed_at == frozen_sum.computed_at
    after = run("report", "--org-unit", "div_nara", "--period", "2023-T1", "--format", "csv")
    assert after.splitlines()[1:] == before.splitlines()[1:]
    assert ",units,3/4" in after  # the frozen line says which units it covered


def test_the_api_gives_sums_with_coverage_and_the_own_value_beside(unit_values, tmp_path):
    from rest_framework.test import APIClient

    from accounts.services import create_token
    from tests.cast import make_user

    path = tmp_path / "area.csv"
    path.write_text(CSV_HEADER + "telefon_teleq,primarvarden,2023-T1,total,97,,,\n")
    run("import_measurements", str(path))
    client = APIClient()
    token = create_token(user=make_user("analytiker", "analyst", None), name="test")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    answer = client.get(
        "/api/v1/aggregates/", {"indicator": "telefon_teleq", "period": "2023-T1"}
    ).json()
    rows = {row["org_unit"]: row for row in answer["results"]}
    area = rows["primarvarden"]
    assert (area["value"], area["numerator"], area["denominator"]) == ("93.333333", "560", "600")
    assert (area["covered"], area["expected"], area["coverage"]) == (3, 4, "0.75")
    assert area["missing_units"] == ["avp_pajala"]
    assert area["own_value"] == "97"  # the area's own figure, which its page shows
    # The area's 97 % has no numerator and denominator: nothing above it can add it up.
    assert set(rows) == {"primarvarden"}
    incomplete = client.get("/api/v1/aggregates/", {"complete": "false"}).json()["results"]
    assert {row["org_unit"] for row in incomplete} >= {"primarvarden"}


def test_a_unit_with_only_its_units_values_offers_those_periods(unit_values, client):
    from tests.cast import make_user

    client.force_login(make_user("ledamot", "board_member", None))
    page = client.get("/styrkort/primarvarden/2023-T1/").text
    assert '<option value="2023-T1" selected>' in page  # the sums' period, not only own ones


def test_the_region_compares_its_divisions_when_only_divisions_report(nara, client, tmp_path):
    from divisions.models import OrgUnit
    from indicators.catalogue import copy_scorecard
    from scorecard.models import Scorecard
    from tests.cast import make_user

    region = OrgUnit.objects.get(code="region_norrbotten")
    copy_scorecard(Scorecard.objects.get(org_unit__code="div_nara"), org_unit=region, year=2022)
    client.force_login(make_user("ledamot", "board_member", None))
    page = client.get("/styrmatt/resultat_mot_budget/region_norrbotten/2022-T2/").text
    # Nära's own -31 mnkr is the region's sum, and Nära is the unit compared (not its leaves).
    assert "−31" in page or "-31" in page
    comparison = page.split('id="comparison-heading"')[1]
    assert "Division Nära" in comparison and "Primärvården" not in comparison
