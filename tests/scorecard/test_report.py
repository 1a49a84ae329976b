"""The division report: load_scorecard + import_measurements + report, as a user runs them."""

import csv
import io

import pytest
from django.core.management import CommandError

from indicators.models import Assessment
from tests.conftest import NARA, TEST_DATA, load_definition_file, run

# What the rules (docs/domain.md) give for Division Nära at 2022-T2, worked out by hand from
# scorecard.yaml and measurements.csv (indicator -> its assessment's status and trend).
NARA_T2_2022 = {
    "besok_filialer": ("fulfilled", "improved"),  # Öka: 6171 vs 1778 (2021-T2)
    "nya_filialer": ("fulfilled", "improved"),  # Öka: 23 vs 15
    "digitalen_triage": ("fulfilled", "improved"),  # 43 000 på helår -> 28 667 by August
    "telefon_teleq": ("not_fulfilled", "worsened"),  # 95 %, band 9.5: 81 < 85.5; 82 -> 81
    "medicinsk_bedomning_3d": ("partly", "no_data"),  # 100 %, band 10: 92 >= 90
    "ftv_fardigbehandlade": ("fulfilled", "no_data"),  # 70 %: exactly 70
    "vald_nara_relation": ("not_fulfilled", "worsened"),  # Öka, K 1305 -> 1179, M 650 -> 462
    "levnadsvanor_radgivning": ("no_data", "no_data"),  # Öka, but no 2021-T2 to compare with
    "halsosamtal_40_50_60": ("not_fulfilled", "no_data"),  # 35 % for every age group: 6-11 %
    "suicidbedomning": ("no_data", "no_data"),
    "besok_80_akut": ("no_data", "no_data"),  # Minska, only 2021-T1 to compare with
    "sip_deltagit": ("partly", "no_data"),  # 80 %, band 8: 75 >= 72
    "palliativ_behandlingsstrategi": ("not_fulfilled", "no_data"),  # 70 %: K 47, M 52
    "utskrivningsklara_1dygn": ("not_fulfilled", "no_data"),  # at most 7 %: 36
    "aterinskrivningar_65": ("partly", "no_data"),  # K 17.1 <= 16+1.6 partly; M 20.5 > 18.92
    "sip_fast_vardkontakt": ("partly", "no_data"),  # 80 %: 73 >= 72
    "fallskador_aldre": ("not_fulfilled", "no_data"),  # halve 2020 (4 helår) -> at most 2: 8
    "inhyrda_kostnadsandel_pv": ("not_fulfilled", "worsened"),  # below 2021-T2 (11.7): 15
    "sjukfranvaro": ("no_data", "no_data"),
    "resultat_mot_budget": ("not_fulfilled", "no_data"),  # +/-0 mnkr: -31
}


def report_rows(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run("report", *args, "--format", "csv"))))


def test_nara_statuses_follow_the_domain_rules(nara):
    stored = {
        a.indicator.code: (a.status, a.trend)
        for a in Assessment.objects.filter(
            org_unit__code="div_nara", period="2022-T2"
        ).select_related("indicator")
    }
    assert stored == NARA_T2_2022


def test_report_csv_has_a_line_per_indicator_and_breakdown(nara):
    rows = report_rows("--org-unit", "div_nara", "--period", "2022-T2")
    assert list(rows[0]) == [
        "perspective",
        "strategic_goal",
        "success_factor",
        "indicator",
        "breakdown",
        "target",
        "value",
        "status",
        "trend",
        "value_source",
        "coverage",
        "national",
        "national_year",
    ]
    assert len(rows) == 64  # 46 indicators, 64 declared breakdowns
    by_key = {(r["indicator"], r["breakdown"]): r for r in rows}

    telefon = by_key[("telefon_teleq", "total")]
    assert telefon["perspective"] == "Medborgare"
    assert telefon["strategic_goal"] == "Trygg norrbottning med god livskvalitet"
    assert telefon["success_factor"] == "En god vård med hög tillgänglighet"
    assert (telefon["target"], telefon["value"], telefon["status"], telefon["trend"]) == (
        "95%",
        "81",
        "not_fulfilled",
        "worsened",
    )
    # Per-breakdown targets: each gender gets its own status and its own target.
    assert (
        by_key[("aterinskrivningar_65", "women")]["status"],
        by_key[("aterinskrivningar_65", "women")]["target"],
    ) == ("partly", "16")
    assert (
        by_key[("aterinskrivningar_65", "men")]["status"],
        by_key[("aterinskrivningar_65", "men")]["target"],
    ) == ("not_fulfilled", "17.2")
    # Counts written beside a share carry no status of their own.
    assert by_key[("utskrivningsklara_1dygn", "count_vtf_total")]["value"] == "1029"
    assert by_key[("utskrivningsklara_1dygn", "count_vtf_total")]["status"] == ""
    # Followed up without a target; followed up only in the annual report (ÅR), so not due
    # in a tertial (issue 10: no longer "no data"); due, with a target, and not reported.
    assert by_key[("fast_lakarkontakt", "total")]["status"] == "not_assessed"
    assert by_key[("kontinuitetsindex", "total")]["status"] == "not_due"
    assert by_key[("kompetensforsorjningsplaner", "total")]["status"] == "not_due"
    assert by_key[("kompetensforsorjningsplaner", "total")]["value"] == ""
    assert by_key[("kompetensforsorjningsplaner", "total")]["trend"] == ""
    assert by_key[("digitala_vardbesok", "total")]["status"] == "no_data"
    # A value that "Minska" cannot judge without last year's lacks its reference.
    assert by_key[("sjukfranvaro", "total")]["status"] == "no_reference"


def test_report_text_format_groups_by_perspective(nara):
    text = run("report", "--org-unit", "div_nara", "--period", "2022-T2")
    assert text.startswith("Division Nära (div_nara), 2022-T2")
    positions = [
        text.index(name)
        for name in ("Samhälle", "Medborgare", "Verksamhet", "Medarbetare", "Ekonomi")
    ]
    assert positions == sorted(positions)
    assert "telefon_teleq" in text and "not_fulfilled" in text


def test_report_for_a_unit_shows_its_own_values(nara):
    rows = report_rows("--org-unit", "avp_pajala", "--period", "2022-T2")
    fall = next(r for r in rows if r["indicator"] == "fallskador_aldre")
    # Halve the 2020 figure, which the unit does not have: nothing to compare with.
    assert (fall["value"], fall["status"]) == ("2", "no_reference")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--org-unit", "div_finns_inte", "--period", "2022-T2"),
            "unknown org unit 'div_finns_inte'",
        ),
        (("--org-unit", "div_nara", "--period", "2022-T4"), "'2022-T4' is not a period"),
    ],
)
def test_report_refuses_bad_arguments(nara, args, message):
    with pytest.raises(CommandError, match=message):
        run("report", *args)


def test_another_regions_scorecard_works_the_same_way(db):
    load_definition_file(TEST_DATA / "second_region.yaml")
    out = run("import_measurements", str(TEST_DATA / "second_region_measurements.csv"))
    assert "14 created, 0 changed, 0 unchanged" in out
    rows = report_rows("--org-unit", "div_kirurgi", "--period", "2024-T2")
    by_key = {(r["indicator"], r["breakdown"]): (r["value"], r["status"], r["trend"]) for r in rows}
    assert by_key == {
        ("co2_resor", "total"): ("", "not_due", ""),  # followed up yearly only
        ("vardgaranti_90", "total"): ("96.1", "fulfilled", "improved"),
        ("vardgaranti_90", "women"): ("94", "partly", "no_data"),
        ("vardgaranti_90", "men"): ("82", "not_fulfilled", "no_data"),
        ("trycksar", "women"): ("4.8", "fulfilled", "no_data"),
        ("trycksar", "men"): ("7", "partly", "no_data"),
        ("sjukfranvaro", "total"): ("6.1", "partly", "unchanged"),
        ("resultat", "total"): ("-2.5", "not_fulfilled", "no_data"),
        ("besok_digitala", "total"): ("8100", "fulfilled", "no_data"),
        ("patientenkat", "total"): ("", "not_due", ""),  # yearly, without a target
    }
    yearly = {
        r["indicator"]: r["status"]
        for r in report_rows("--org-unit", "div_kirurgi", "--period", "2024")
    }
    assert yearly["co2_resor"] == "fulfilled"  # minska 10 % from 1 200 (2022): 1 050 <= 1 080
    trycksar = Assessment.objects.get(indicator__code="trycksar", org_unit__code="div_kirurgi")
    assert trycksar.status == "partly"  # K fulfilled, M partly


def test_loading_twice_changes_nothing(db):
    first = load_definition_file(NARA / "scorecard.yaml")
    assert first.total_created > 0
    out = run("load_scorecard", str(NARA / "scorecard.yaml"))
    assert "0 created, 0 changed" in out
