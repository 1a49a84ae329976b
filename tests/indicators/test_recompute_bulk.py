"""The bulk recompute (values read set-wise, rules memoised per indicator, rows written by
COPY) against the pure rules applied to each row on its own, over a synthetic data set."""

import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from demo.nara import load_demo
from demo.synthetic import CODE_PREFIX, SyntheticSizes, generate_synthetic
from divisions.models import OrgUnit
from indicators.editing import update_measurement
from indicators.imports.run import import_measurements
from indicators.models import Aggregate, Assessment, Indicator, Measurement
from indicators.recompute import recompute_assessments, verify_assessments

# Six indicators: every kind of target the synthetic data has (at least, increase, at most
# per breakdown, decrease, none, at most); three years, so that change targets have their
# reference a year earlier and the targets tighten.
SIZES = SyntheticSizes(divisions=1, areas=2, units=2, indicators=6, years=3)


@pytest.fixture
def synthetic(db):
    load_demo()
    generate_synthetic(SIZES)
    return list(Indicator.objects.filter(code__startswith=CODE_PREFIX).values_list("pk", flat=True))


def test_every_stored_assessment_is_what_the_rules_give_its_row(synthetic):
    # 1 division, 2 areas and 4 units, each judged in every period of the 3 years.
    assert Assessment.objects.filter(indicator_id__in=synthetic).count() == 7 * 6 * 3 * 16
    statuses = set(
        Assessment.objects.filter(indicator_id__in=synthetic).values_list(
            "computed_status", flat=True
        )
    )
    assert {"fulfilled", "partly", "not_fulfilled", "no_data", "not_assessed"} <= statuses
    assert list(verify_assessments(indicator_ids=synthetic)) == []


def test_the_check_finds_a_wrong_a_missing_and_an_extra_assessment(synthetic):
    first, second, third = Assessment.objects.filter(indicator_id__in=synthetic).order_by("pk")[:3]
    wrong = "partly" if first.computed_status != "partly" else "fulfilled"
    Assessment.objects.filter(pk=first.pk).update(computed_status=wrong)
    second.delete()
    # A value for a unit and period the data set has none for: judged, but not stored yet.
    template = Measurement.objects.filter(indicator_id=third.indicator_id).first()
    Measurement.objects.create(
        indicator_id=third.indicator_id,
        org_unit_id=template.org_unit_id,
        period="2030",
        breakdown="total",
        value=Decimal(1),
        updated_at=timezone.now(),
    )
    found = {(m.org_unit_id, m.period): m for m in verify_assessments(indicator_ids=synthetic)}
    assert set(found) == {
        (first.org_unit_id, first.period),
        (second.org_unit_id, second.period),
        (template.org_unit_id, "2030"),
    }
    assert found[(first.org_unit_id, first.period)].stored[1] == wrong
    assert found[(second.org_unit_id, second.period)].stored is None
    assert found[(template.org_unit_id, "2030")].stored is None

    recompute_assessments(indicator_ids=synthetic)
    assert list(verify_assessments(indicator_ids=synthetic)) == []


def test_check_assessments_command(synthetic, capsys):
    call_command("check_assessments", "--prefix", CODE_PREFIX)
    out = capsys.readouterr().out
    assert f"{7 * 6 * 3 * 16:,} assessments of 6 indicators" in out
    assert "0 differences" in out


def stored(ids: list[int]) -> dict[tuple, tuple]:
    """Every roll-up and assessment of the indicators, as plain tuples."""
    rows = {}
    for a in Aggregate.objects.filter(indicator_id__in=ids):
        rows[("aggregate", a.indicator_id, a.org_unit_id, a.period, a.breakdown)] = (
            a.value,
            a.numerator,
            a.denominator,
            a.covered,
            a.expected,
            tuple(a.missing_units),
        )
    for a in Assessment.objects.filter(indicator_id__in=ids):
        rows[("assessment", a.indicator_id, a.org_unit_id, a.period)] = (
            a.placement_id,
            a.computed_status,
            a.trend,
            a.details,
        )
    return rows


def test_an_edit_refreshes_its_period_as_a_full_recompute_would(synthetic):
    admin = get_user_model().objects.get(username="admin")  # the demo administrator
    leaf = OrgUnit.objects.get(code=f"{CODE_PREFIX}01_vo_01_e_01")
    area = leaf.parent
    indicator = Indicator.objects.get(code=f"{CODE_PREFIX}01_i_02")  # counts, summed up
    measurement = Measurement.objects.get(
        indicator=indicator, org_unit=leaf, period="2020-05", breakdown="women"
    )
    before = stored(synthetic)
    update_measurement(user=admin, measurement=measurement, value=measurement.value + 1000)
    after = stored(synthetic)
    key = ("aggregate", indicator.pk, area.pk, "2020-05", "women")
    assert after[key][0] == before[key][0] + 1000
    recompute_assessments(indicator_ids=synthetic)
    assert stored(synthetic) == after


def test_a_unit_reporting_for_the_first_time_is_expected_in_every_period(synthetic):
    leaf = OrgUnit.objects.get(code=f"{CODE_PREFIX}01_vo_02_e_02")
    indicator = Indicator.objects.get(code=f"{CODE_PREFIX}01_i_01")  # a share: ratio
    Measurement.objects.filter(indicator=indicator, org_unit=leaf).delete()
    recompute_assessments(indicator_ids=[indicator.pk])

    def earlier():
        return Aggregate.objects.get(
            indicator=indicator, org_unit=leaf.parent, period="2019", breakdown="total"
        )

    assert (earlier().covered, earlier().expected) == (1, 1)  # its other unit only

    lines = ["indicator;org_unit;period;breakdown;value;numerator;denominator"] + [
        f"{indicator.code};{leaf.code};2021-03;{b};50;{n};{2 * n}"
        for b, n in (("total", 20), ("women", 12), ("men", 8))
    ]
    result = import_measurements(
        fileobj=io.BytesIO("\r\n".join(lines).encode()), filename="first.csv"
    )
    assert result.created == 3
    after = stored(synthetic)
    # 2019 holds no new value, yet the unit is now expected there (and missing).
    assert (earlier().covered, earlier().expected, earlier().missing_units) == (1, 2, [leaf.code])
    recompute_assessments(indicator_ids=synthetic)
    assert stored(synthetic) == after


def test_an_analysis_where_no_value_came_in_is_judged_on_no_value(synthetic):
    # The demo's analysis texts are written like this: the assessment exists, the value not.
    from indicators.editing import annotate_indicator

    nara = OrgUnit.objects.get(code="div_nara")
    indicator = Indicator.objects.get(code="vardskador_sluten_somatisk")
    Measurement.objects.filter(indicator=indicator, org_unit=nara, period="2022-T2").delete()
    admin = get_user_model().objects.get(username="admin")
    annotate_indicator(
        user=admin, indicator=indicator, org_unit=nara, period="2022-T2", analysis="Inget utfall"
    )
    assert list(verify_assessments(indicator_ids=[indicator.pk])) == []
    # and a wrong status there is still found
    Assessment.objects.filter(indicator=indicator, org_unit=nara, period="2022-T2").update(
        computed_status="fulfilled"
    )
    found = verify_assessments(indicator_ids=[indicator.pk])
    assert [(m.org_unit_id, m.period) for m in found] == [(nara.pk, "2022-T2")]


def test_a_closed_roll_up_stays_and_is_the_reference_the_next_year_is_judged_on(synthetic):
    # A recompute of whole indicators judges from the roll-ups it has just stored, without
    # reading them back: a close's kept roll-up must be among them, not the new sum.
    from audit.services import Actor
    from scorecard.closing import close_period

    admin = get_user_model().objects.get(username="admin")
    area = OrgUnit.objects.get(code=f"{CODE_PREFIX}01_vo_01")
    # Without values of its own, the area is judged on what its units add up to.
    Measurement.objects.filter(indicator_id__in=synthetic, org_unit=area).delete()
    recompute_assessments(indicator_ids=synthetic)
    close_period(actor=Actor(admin), org_unit=area, period="2019-T3")
    frozen = stored(synthetic)
    leaves = OrgUnit.objects.filter(parent=area)
    # Below the close, as a correction written past the rules would.
    changed = Measurement.objects.filter(org_unit__in=leaves, period="2019-T3").update(
        value=Decimal("123456"), numerator=Decimal("123456")
    )
    assert changed > 0
    recompute_assessments(indicator_ids=synthetic)
    after = stored(synthetic)
    under_close = [
        k for k in frozen if k[0] == "aggregate" and k[2] == area.pk and k[3] == "2019-T3"
    ]
    assert under_close and all(after[k] == frozen[k] for k in under_close)
    assert list(verify_assessments(indicator_ids=synthetic)) == []
