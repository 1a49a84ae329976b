"""The bulk recompute (values read set-wise, rules memoised per indicator, rows written by
COPY) against the pure rules applied to each row on its own, over a synthetic data set."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from demo.nara import load_demo
from demo.synthetic import CODE_PREFIX, SyntheticSizes, generate_synthetic
from indicators.models import Assessment, Indicator, Measurement
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
