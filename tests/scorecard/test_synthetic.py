"""The synthetic multi-year history: sizes, naming, placement, assessments and idempotency."""

import io
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from demo.nara import load_demo
from demo.synthetic import CODE_PREFIX, SyntheticSizes, generate_synthetic
from divisions.models import OrgUnit
from indicators.models import Assessment, Import, Indicator, Measurement, Placement, Target
from scorecard.models import Scorecard, SuccessFactor

TINY = SyntheticSizes(divisions=1, areas=1, units=2, indicators=3, years=2)
TINY_ARGS = [
    "--divisions",
    "1",
    "--areas",
    "1",
    "--units",
    "2",
    "--indicators",
    "3",
    "--years",
    "2",
]
# 1 division x (1 + 1 area + 2 units) x 3 indicators x 2 years x 16 periods x 3 breakdowns
TINY_COUNT = 1 * (1 + 1 + 1 * 2) * 3 * 2 * 16 * 3


@pytest.fixture
def demo(db):
    load_demo()


def synthetic_measurements():
    return Measurement.objects.filter(indicator__code__startswith=CODE_PREFIX)


def synthetic_counts() -> dict[str, int]:
    return {
        "measurements": synthetic_measurements().count(),
        "assessments": Assessment.objects.filter(indicator__code__startswith=CODE_PREFIX).count(),
        "targets": Target.objects.filter(indicator__code__startswith=CODE_PREFIX).count(),
        "indicators": Indicator.objects.filter(code__startswith=CODE_PREFIX).count(),
        "org_units": OrgUnit.objects.filter(code__startswith=CODE_PREFIX).count(),
        "scorecards": Scorecard.objects.filter(org_unit__code__startswith=CODE_PREFIX).count(),
        "success_factors": SuccessFactor.objects.filter(
            scorecard__org_unit__code__startswith=CODE_PREFIX
        ).count(),
        "placements": Placement.objects.filter(indicator__code__startswith=CODE_PREFIX).count(),
        "imports": Import.objects.filter(filename="synthetic").count(),
        "all_measurements": Measurement.objects.count(),
    }


def values() -> dict[tuple, Decimal]:
    return {
        (ind, unit, period, breakdown): value
        for ind, unit, period, breakdown, value in synthetic_measurements().values_list(
            "indicator__code", "org_unit__code", "period", "breakdown", "value"
        )
    }


@pytest.mark.django_db
def test_tiny_history_matches_the_formula_and_stays_in_its_division(demo):
    result = generate_synthetic(TINY)

    assert TINY.expected_measurements == TINY_COUNT == 1152
    assert result.measurements == synthetic_measurements().count() == TINY_COUNT

    units = OrgUnit.objects.filter(code__startswith=CODE_PREFIX)
    division = "/region_norrbotten/syn_div_01/"
    area = f"{division}syn_div_01_vo_01/"
    assert {u.code: u.path for u in units} == {
        "syn_div_01": division,
        "syn_div_01_vo_01": area,
        "syn_div_01_vo_01_e_01": f"{area}syn_div_01_vo_01_e_01/",
        "syn_div_01_vo_01_e_02": f"{area}syn_div_01_vo_01_e_02/",
    }
    assert units.get(code="syn_div_01").name == "Syntetisk division 01 (testdata)"
    assert units.get(code="syn_div_01_vo_01").name == "Syntetiskt VO 01.01 (testdata)"
    assert units.get(code="syn_div_01_vo_01_e_02").name == "Syntetisk enhet 01.01.02 (testdata)"
    indicators = Indicator.objects.filter(code__startswith=CODE_PREFIX)
    assert sorted(indicators.values_list("code", flat=True)) == [
        "syn_div_01_i_01",
        "syn_div_01_i_02",
        "syn_div_01_i_03",
    ]
    assert all("(testdata)" in i.name for i in indicators)
    assert all(i.breakdowns == ["total", "women", "men"] for i in indicators)
    # A scorecard of the division per year, with success factors of its own, placing all
    # three indicators in more than one perspective.
    scorecards = Scorecard.objects.filter(org_unit__code="syn_div_01").order_by("year")
    assert [s.year for s in scorecards] == [2019, 2020]
    for scorecard in scorecards:
        placed = scorecard.placements.select_related("success_factor__strategic_goal")
        assert sorted(p.indicator.code for p in placed) == sorted(
            indicators.values_list("code", flat=True)
        )
        assert all(p.success_factor.scorecard_id == scorecard.pk for p in placed)
        assert len({p.success_factor.strategic_goal.perspective_id for p in placed}) == 3
        assert all("(testdata)" in f.name for f in scorecard.success_factors.all())
    # Targets per year, set by the division; indicator 3 has its own K and M targets.
    targets = Target.objects.filter(indicator__code__startswith=CODE_PREFIX)
    assert set(targets.values_list("year", flat=True)) == {2019, 2020}
    assert set(targets.values_list("org_unit__code", flat=True)) == {"syn_div_01"}
    assert set(
        targets.filter(indicator__code="syn_div_01_i_03").values_list("breakdown", "kind")
    ) == {("women", "at_most"), ("men", "at_most")}

    # Every synthetic figure sits under the division whose scorecard places it.
    placed_by = dict(
        Placement.objects.filter(indicator__code__startswith=CODE_PREFIX).values_list(
            "indicator__code", "scorecard__org_unit__path"
        )
    )
    pairs = set(synthetic_measurements().values_list("indicator__code", "org_unit__path"))
    assert pairs
    for code, unit_path in pairs:
        assert placed_by[code] == "/region_norrbotten/syn_div_01/"
        assert unit_path.startswith(placed_by[code])

    # Traceable: one Import, no file rows.
    assert set(synthetic_measurements().values_list("source_import", flat=True)) == {
        result.record.pk
    }
    assert not synthetic_measurements().filter(source_row__isnull=False).exists()
    assert result.record.source == "demo" and result.record.status == "succeeded"

    # Shares carry a consistent numerator and denominator.
    shares = synthetic_measurements().filter(numerator__isnull=False)
    assert shares.exists()
    for value, num, den in shares.values_list("value", "numerator", "denominator"):
        assert abs(value - 100 * num / den) <= Decimal("0.05")
    # Totals are women + men.
    by_key = values()
    for (ind, unit, period, breakdown), value in by_key.items():
        if breakdown == "total" and ind == "syn_div_01_i_02":
            women, men = by_key[(ind, unit, period, "women")], by_key[(ind, unit, period, "men")]
            assert value == women + men

    assessments = Assessment.objects.filter(indicator__code__startswith=CODE_PREFIX)
    assert assessments.count() == TINY_COUNT // 3  # one per indicator x unit x period
    judged = set(assessments.values_list("computed_status", flat=True)) - {"no_data"}
    assert len(judged) > 1, judged


@pytest.mark.django_db
def test_a_second_run_changes_nothing_and_other_sizes_replace_the_set(demo):
    generate_synthetic(TINY)
    before, first_values = synthetic_counts(), values()

    again = generate_synthetic(TINY)
    assert again.skipped
    assert synthetic_counts() == before

    # Another seed regenerates (purge, then load): same counts, other values, one Import.
    other = generate_synthetic(SyntheticSizes(**{**TINY.__dict__, "seed": 2}))
    assert not other.skipped and other.purged == TINY_COUNT
    assert synthetic_counts() == before
    assert values() != first_values

    # Smaller sizes leave nothing of the larger set behind; the same seed gives the same values.
    smaller = SyntheticSizes(**{**TINY.__dict__, "units": 1})
    generate_synthetic(smaller)
    assert synthetic_measurements().count() == smaller.expected_measurements
    assert not OrgUnit.objects.filter(code="syn_div_01_vo_01_e_02").exists()
    generate_synthetic(TINY)
    assert synthetic_counts() == before
    assert values() == first_values


@pytest.mark.django_db
def test_load_demo_synthetic_command(db):
    out = io.StringIO()
    call_command("load_demo", "--synthetic", *TINY_ARGS, stdout=out)
    text = out.getvalue()
    assert f"= {TINY_COUNT:,} measurements" in text
    assert "rows/s" in text
    assert synthetic_measurements().count() == TINY_COUNT
    demo_rows = Measurement.objects.exclude(indicator__code__startswith=CODE_PREFIX).count()
    assert demo_rows > 0
    assert f"Measurements in the database: {TINY_COUNT + demo_rows:,}" in text
    counts = synthetic_counts()

    out = io.StringIO()
    call_command("load_demo", "--synthetic", *TINY_ARGS, stdout=out)
    assert "already loaded" in out.getvalue()
    assert synthetic_counts() == counts


@pytest.mark.django_db
def test_estimate_only_and_sizes_need_synthetic(db):
    out = io.StringIO()
    call_command(
        "load_demo",
        "--measurements-estimate",
        "--divisions",
        "10",
        "--areas",
        "5",
        "--units",
        "8",
        "--indicators",
        "30",
        "--years",
        "8",
        stdout=out,
    )
    assert "5,299,200 measurements" in out.getvalue()
    assert not Measurement.objects.exists()

    with pytest.raises(CommandError, match="--divisions"):
        call_command("load_demo", "--divisions", "2")
