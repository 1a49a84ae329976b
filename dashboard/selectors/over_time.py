"""Indicators fulfilled, partly fulfilled and not fulfilled per perspective and period."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from dashboard.selectors.overview import StatusCounts
from dashboard.selectors.states import state_counts
from divisions.models import OrgUnit, OrgUnitKind
from domain.periods import Period, PeriodKind
from indicators.models import Assessment
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
    """Indicators per state, perspective and period of one follow-up kind: the periods with
    an assessment in scope, each counted as its report counts them (selectors.states)."""
    if org_unit.kind == OrgUnitKind.REGION:
        scope = list(OrgUnit.objects.filter(kind=OrgUnitKind.DIVISION))
    else:
        scope = [org_unit]
    perspectives = list(Perspective.objects.all())
    assessed = (
        Assessment.objects.filter(org_unit__in=[u.pk for u in scope], placement__isnull=False)
        .values_list("period", flat=True)
        .distinct()
        .order_by()
    )
    by_kind: dict[PeriodKind, list[str]] = defaultdict(list)
    for period in assessed:
        by_kind[Period.parse(period).kind].append(period)
    periods = sorted(by_kind.get(kind, []), key=Period.sort_key)
    counts = state_counts(scope, periods)
    found: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for (_unit_id, period), by_perspective in counts.items():
        for perspective_id, states in by_perspective.items():
            found[(perspective_id, period)].update(states)
    return FulfilmentOverTime(
        org_unit=org_unit,
        scope=scope,
        kind=kind,
        kinds=[k for k in PeriodKind if k in by_kind],
        periods=periods,
        series=[
            PerspectiveSeries(p, [(q, StatusCounts.of(found.get((p.pk, q), {}))) for q in periods])
            for p in perspectives
        ],
    )
