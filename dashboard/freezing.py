"""Closing a report period with what the report showed, and reopening it.

The one write path for closes: the report page's buttons, `manage.py close_period` /
`reopen_period` and anything else that closes call these. A close (scorecard.closing)
refuses every later write to the period; this adds, in the same transaction, the report of
the closed unit and of every unit under it as it stood (FrozenReport, dashboard.snapshot),
so that nothing after the close changes what those reports say (dashboard.selectors.final).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from audit.services import Actor
from dashboard.selectors.division import division_page
from dashboard.selectors.overview import valid_during
from dashboard.snapshot import page_content
from divisions.models import OrgUnit
from domain.periods import Period
from indicators.models import Measurement
from indicators.recompute import recompute_assessments
from scorecard import closing
from scorecard.models import FrozenReport, PeriodClose


@transaction.atomic
def close_report(*, actor: Actor, org_unit: OrgUnit, period: str, reason: str = "") -> PeriodClose:
    """Close `period` for `org_unit` and its subtree, freezing each unit's report.

    Administrators only (scorecard.closing); AlreadyClosed when it is closed on this unit.
    """
    close = closing.close_period(actor=actor, org_unit=org_unit, period=period, reason=reason)
    units = OrgUnit.objects.filter(valid_during(close.period), path__startswith=org_unit.path)
    units = sorted({org_unit, *units}, key=lambda unit: unit.path)
    # The unit the close was made on, named as it was then (it may be renamed later).
    closed_on = {"code": org_unit.code, "name": org_unit.name}
    FrozenReport.objects.bulk_create(
        FrozenReport(
            close=close,
            org_unit=unit,
            content={
                **page_content(division_page(unit, close.period)),
                "closed_on": closed_on,
            },
            created_at=close.closed_at,
        )
        for unit in units
    )
    return close


@transaction.atomic
def reopen_report(*, actor: Actor, org_unit: OrgUnit, period: str, reason: str) -> PeriodClose:
    """Reopen a period closed on this unit (administrators, with a reason). The frozen
    reports stay: the reports compare themselves with them from now on.

    While closed, recompute left the assessments of the closed units and periods alone; they
    are brought up to the scorecard and values of today here, so that the reopened report
    shows what a new close would freeze.
    """
    close = closing.reopen_period(actor=actor, org_unit=org_unit, period=period, reason=reason)
    frozen_units = FrozenReport.objects.filter(close=close).values("org_unit_id")
    held = Measurement.objects.filter(period__in=Period.parse(close.period).closes()).filter(
        Q(org_unit__path__startswith=org_unit.path) | Q(org_unit_id__in=frozen_units)
    )
    recompute_assessments(pairs=set(held.values_list("indicator_id", "org_unit_id")))
    return close
