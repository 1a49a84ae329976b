"""`load_demo` runs again on any database, a closed period included, and leaves it frozen."""

from __future__ import annotations

import io

from django.contrib.auth import get_user_model
from django.core.management import call_command

from audit.models import AuditEntry
from audit.services import Actor
from dashboard.freezing import close_report
from divisions.models import OrgUnit
from indicators.models import Assessment, Measurement, MeasurementRevision
from scorecard.models import FrozenReport, PerspectiveAssessment
from tests.conftest import run

CLOSED = "2022-T2"


def _frozen() -> tuple:
    """Everything of the closed period a write could change."""
    return tuple(
        list(model.objects.filter(**{lookup: CLOSED}).order_by("pk").values_list())
        for model, lookup in (
            (Measurement, "period"),
            (MeasurementRevision, "measurement__period"),
            (Assessment, "period"),
            (PerspectiveAssessment, "period"),
            (FrozenReport, "close__period"),
        )
    )


def test_load_demo_runs_again_after_a_period_is_closed(demo):
    admin = get_user_model().objects.get(username="admin")
    close_report(actor=Actor(admin), org_unit=OrgUnit.objects.get(code="div_nara"), period=CLOSED)
    before = _frozen()
    assert before[0], "the demo has values in the closed period"

    out = io.StringIO()
    call_command("load_demo", stdout=out)  # raises (a traceback from the command) on failure

    assert _frozen() == before
    text = out.getvalue()
    # 41 values of T2 itself and one of August, a month T2 closes (docs/domain.md, Closing).
    assert "42 row(s) skipped" in text and CLOSED in text and "2022-08 for div_nara" in text, text
    # The report's analysis texts are all of T2: left as they are too.
    assert "Analysis texts: 0 written, 0 unchanged, 25 in a closed period" in text, text


def test_load_demo_twice_changes_nothing(demo):
    entries = AuditEntry.objects.count()
    text = run("load_demo")
    # 83 of Nära's rows and 3 of its history, 78 of Länssjukvård's (its 2023 values are not
    # the demo's) and the region's 9 key figures of 2018-2019.
    assert (
        "Demo scorecards: 0 created, 0 changed; measurements: 0 created, 0 changed, "
        "173 unchanged; actions: 0 created"
    ) in text
    assert "Analysis texts: 0 written, 25 unchanged" in text
    assert AuditEntry.objects.count() == entries


def test_load_demo_runs_again_when_the_whole_region_is_closed(demo):
    admin = get_user_model().objects.get(username="admin")
    region = OrgUnit.objects.get(code="region_norrbotten")
    close_report(actor=Actor(admin), org_unit=region, period=CLOSED)
    before = _frozen()

    text = run("load_demo")

    assert _frozen() == before
    # Both divisions' rows of the period, units included (41 of Nära's, 51 of Länssjukvård's),
    # and Nära's August, a month T2 closes.
    assert "93 row(s) skipped" in text, text
    assert f"{CLOSED} for div_nara" in text and f"{CLOSED} for div_lanssjukvard" in text
