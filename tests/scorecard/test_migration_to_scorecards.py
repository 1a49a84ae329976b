"""The migration to scorecards carries a one-division database over without losing a row.

Runs the real migrations on PostgreSQL: back to the state before scorecards, rows written
the old way (indicators with their success factor, owner and region-wide targets), then
forward again.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("indicators", "0002_import_pipeline"), ("scorecard", "0002_periodclose")]
AFTER = [
    ("indicators", "0003_scorecards_per_unit_and_year"),
    ("scorecard", "0004_successfactor_scorecard_required"),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_old_indicators_become_placements_on_their_divisions_scorecard():
    old = _migrate(BEFORE)
    OrgUnit = old.get_model("divisions", "OrgUnit")
    region = OrgUnit.objects.create(code="reg", name="Region", kind="region", path="/reg/")
    division = OrgUnit.objects.create(
        code="div", name="Division", kind="division", parent=region, path="/reg/div/"
    )
    Perspective = old.get_model("scorecard", "Perspective")
    goal = old.get_model("scorecard", "StrategicGoal").objects.create(
        code="g", name="Mål", perspective=Perspective.objects.create(code="p", name="P", order=1)
    )
    factor = old.get_model("scorecard", "SuccessFactor").objects.create(
        code="f", name="Faktor", strategic_goal=goal
    )
    Indicator = old.get_model("indicators", "Indicator")
    share = Indicator.objects.create(
        code="andel",
        success_factor=factor,
        name="Andel som får kontakt",
        unit="percent",
        direction="higher_is_better",
        breakdowns=["total", "women", "men"],
        follow_up=["T1", "T2"],
        baseline_text="2021: 80 %",
        order=3,
    )
    old.get_model("indicators", "Target").objects.create(
        indicator=share, year=2022, breakdown="", kind="at_least", value=95
    )
    old.get_model("indicators", "Measurement").objects.create(
        indicator=share,
        org_unit=division,
        period="2022-T2",
        breakdown="total",
        value=81,
        updated_at="2022-09-01T00:00:00Z",
    )
    old.get_model("indicators", "Assessment").objects.create(
        indicator=share,
        org_unit=division,
        period="2022-T2",
        computed_status="partly",
        trend="no_data",
        computed_at="2022-09-01T00:00:00Z",
        analysis="Analysen står kvar.",
    )

    new = _migrate(AFTER)
    scorecard = new.get_model("scorecard", "Scorecard").objects.get()
    assert (scorecard.org_unit_id, scorecard.year) == (division.pk, 2022)
    assert new.get_model("scorecard", "SuccessFactor").objects.get().scorecard_id == scorecard.pk
    placement = new.get_model("indicators", "Placement").objects.get()
    assert (placement.scorecard_id, placement.success_factor_id) == (scorecard.pk, factor.pk)
    assert (placement.name, placement.breakdowns, placement.follow_up) == (
        "Andel som får kontakt",
        ["total", "women", "men"],
        ["T1", "T2"],
    )
    assert (placement.baseline_text, placement.order) == ("2021: 80 %", 3)
    indicator = new.get_model("indicators", "Indicator").objects.get()
    assert indicator.aggregation == "ratio"  # a share adds up by numerator and denominator
    target = new.get_model("indicators", "Target").objects.get()
    assert (target.org_unit_id, target.year) == (division.pk, 2022)  # now the division's
    assessment = new.get_model("indicators", "Assessment").objects.get()
    assert assessment.placement_id == placement.pk
    assert assessment.analysis == "Analysen står kvar."
    assert new.get_model("indicators", "Measurement").objects.get().value == 81

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to today's schema
