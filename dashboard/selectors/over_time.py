"""Indicators fulfilled, partly fulfilled and not fulfilled per perspective and period."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F

from dashboard.selectors.overview import StatusCounts
from divisions.models import OrgUnit, OrgUnitKind
from domain.periods import Period, PeriodKind
from indicators.models import Assessment, effective_status
from scorecard.models import Perspective


@dataclass(frozen=True)
class PerspectiveSeries:
    perspective: Perspective
    points: list[tuple[str, StatusCounts]]  # chronological


@dataclass(frozen=True)
class FulfilmentOverTime:
    org_unit: OrgUnit
    scope: list[OrgUnit]  # whose indicators are counted: the divisions for the region
    kind: PeriodKind
    kinds: list[PeriodKind]
    periods: list[str]  # chronological
    series: list[PerspectiveSeries]


def fulfilment_over_time(org_unit: OrgUnit, kind: PeriodKind) -> FulfilmentOverTime:
    """Indicators fulfilled / partly / not fulfilled per perspective and period."""
    if org_unit.kind == OrgUnitKind.REGION:
        scope = list(OrgUnit.objects.filter(kind=OrgUnitKind.DIVISION))
    else:
        scope = [org_unit]
    perspectives = list(Perspective.objects.all())
    found: dict[tuple[int, str], dict[str, int]] = defaultdict(dict)
    kinds: set[PeriodKind] = set()
    for period, perspective_id, status, n in (
        Assessment.objects.filter(org_unit__in=[u.pk for u in scope], placement__isnull=False)
        .annotate(
            shown=effective_status(),
            perspective_id=F("placement__success_factor__strategic_goal__perspective_id"),
        )
        .values_list("period", "perspective_id", "shown")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        period_kind = Period.parse(period).kind
        kinds.add(period_kind)
        if period_kind is kind:
            found[(perspective_id, period)][status] = n
    periods = sorted({period for _, period in found})
    return FulfilmentOverTime(
        org_unit=org_unit,
        scope=scope,
        kind=kind,
        kinds=[k for k in PeriodKind if k in kinds],
        periods=periods,
        series=[
            PerspectiveSeries(p, [(q, StatusCounts.of(found.get((p.pk, q), {}))) for q in periods])
            for p in perspectives
        ],
    )
