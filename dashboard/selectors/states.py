"""Each placed indicator's state per org unit and period, counted per perspective.

The counts of the overview, the division page's summary and over time: the same states the
division report's lines show (dashboard.selectors.report, domain.rules.report_status), from
the same inputs, for many units and periods in a fixed number of queries. Every indicator on
the scorecard a unit follows is counted, whether or not a value came in.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from django.db.models import Q

from divisions.models import OrgUnit
from domain.periods import Period
from domain.rules import TargetKind, has_deciding_value, report_status
from indicators.models import Aggregate, Assessment, Measurement, Placement, Target
from indicators.scorecards import scorecards_followed

# (org unit id, period) -> perspective id -> state -> number of indicators
StateCounts = dict[tuple[int, str], dict[int, Counter[str]]]


def state_counts(org_units: Iterable[OrgUnit], periods: Iterable[str]) -> StateCounts:
    """How many indicators of each perspective are in each state, per unit and period."""
    units, periods = list(org_units), sorted(set(periods))
    if not units or not periods:
        return {}
    when = {code: Period.parse(code) for code in periods}
    followed = scorecards_followed(units, {p.year for p in when.values()})
    scorecard_ids = {found[0] for found in followed.values() if found}
    placed: dict[int, list[tuple[int, int, list[str], list[str]]]] = defaultdict(list)
    for scorecard_id, indicator_id, perspective_id, breakdowns, follow_up in (
        Placement.objects.filter(scorecard_id__in=scorecard_ids)
        .order_by()
        .values_list(
            "scorecard_id",
            "indicator_id",
            "success_factor__strategic_goal__perspective_id",
            "breakdowns",
            "follow_up",
        )
    ):
        placed[scorecard_id].append((indicator_id, perspective_id, breakdowns, follow_up))
    indicator_ids = {item[0] for items in placed.values() for item in items}
    target_years = {p.year for p in when.values()} | {f[1] for f in followed.values() if f}
    # Targets that would judge a value (the report's `assessable`): indicator -> [(unit, year)]
    judged: dict[int, list[tuple[str | None, int | None]]] = defaultdict(list)
    for indicator_id, unit_code, year in (
        Target.objects.filter(indicator_id__in=indicator_ids)
        .filter(Q(year__in=target_years) | Q(year__isnull=True))
        .exclude(kind=TargetKind.NONE)
        .order_by()
        .values_list("indicator_id", "org_unit__code", "year")
    ):
        judged[indicator_id].append((unit_code, year))
    unit_ids = [unit.pk for unit in units]
    statuses = {
        (unit_id, period, indicator_id): override or computed
        for unit_id, period, indicator_id, computed, override in Assessment.objects.filter(
            org_unit_id__in=unit_ids, period__in=periods
        )
        .order_by()
        .values_list("org_unit_id", "period", "indicator_id", "computed_status", "override_status")
    }
    with_value: dict[tuple[int, str, int], set[str]] = defaultdict(set)
    keys = ("org_unit_id", "period", "indicator_id", "breakdown")
    own = Measurement.objects.filter(org_unit_id__in=unit_ids, period__in=periods)
    summed = Aggregate.objects.filter(org_unit_id__in=unit_ids, period__in=periods)
    for unit_id, period, indicator_id, breakdown in (
        own.order_by().values_list(*keys).union(summed.order_by().values_list(*keys))
    ):
        with_value[(unit_id, period, indicator_id)].add(breakdown)

    counts: StateCounts = {}
    for unit in units:
        lineage = set(unit.lineage_codes)
        for code, period in when.items():
            found = followed[(unit.pk, period.year)]
            by_perspective: dict[int, Counter[str]] = defaultdict(Counter)
            counts[(unit.pk, code)] = by_perspective
            if found is None:
                continue
            scorecard_id, scorecard_year = found
            years = (period.year, scorecard_year, None)
            for indicator_id, perspective_id, breakdowns, follow_up in placed[scorecard_id]:
                key = (unit.pk, code, indicator_id)
                state = report_status(
                    statuses.get(key),
                    has_value=has_deciding_value(breakdowns, with_value.get(key, ())),
                    due=period.is_due(follow_up),
                    assessable=any(
                        (unit_code is None or unit_code in lineage) and year in years
                        for unit_code, year in judged[indicator_id]
                    ),
                )
                by_perspective[perspective_id][state.value] += 1
    return counts
