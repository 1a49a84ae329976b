"""Recompute of stored assessments: goal fulfilment and trend from values and targets.

Runs after anything a stored assessment depends on changes: an import, an edited value or
target, a definitions load.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection as db_connection
from django.utils import timezone

from domain import rules
from domain.numbers import plain_decimal
from domain.periods import Period, PeriodKind
from scorecard.closing import closed_lookup

from . import bulk, rollups
from .models import Aggregate, Assessment, Indicator, Measurement, Target
from .scorecards import PlacementIndex


def recompute_assessments(
    *,
    pairs: Iterable[tuple[int, int]] | None = None,
    indicator_ids: Iterable[int] | None = None,
    periods: Iterable[tuple[int, str]] | None = None,
) -> int:
    """Recompute stored assessments for (indicator, org unit) pairs, or whole indicators.

    Every period of a pair is recomputed, since a changed value is also another period's
    reference (one year later, or a named base year). The roll-ups of the indicators are
    refreshed first, and the units above a changed one are assessed again on them. Overrides
    and analysis are kept. Assessments of a unit and period under a close in force are left
    as they are: a closed report does not change (scorecard.closing).

    `periods`: the (indicator, period) keys whose values changed, when the caller knows
    them (an import, an edit): only their roll-ups are refreshed. Without it, and for whole
    indicators, every roll-up of the indicator is.
    """
    by_indicator: dict[int, set[int] | None] = defaultdict(set)
    for indicator_id, unit_id in pairs or ():
        by_indicator[indicator_id].add(unit_id)  # type: ignore[union-attr]
    for indicator_id in indicator_ids or ():
        if indicator_id is not None:  # e.g. the old indicator of a new target
            by_indicator[indicator_id] = None  # all org units
    if not by_indicator:
        return 0
    now = timezone.now()
    tree = rollups.Tree()
    ancestries = {pk: [pk, *tree.ancestors(pk)] for pk in tree.code_of}
    changed: dict[int, set[str]] | None = None
    if periods is not None:
        changed = defaultdict(set)
        for indicator_id, period in periods:
            if by_indicator.get(indicator_id) is not None:  # not a whole indicator
                changed[indicator_id].add(period)
    for unit_ids in by_indicator.values():
        if unit_ids is not None:  # the units above see a new sum
            unit_ids.update(a for pk in list(unit_ids) for a in ancestries[pk][1:])
    is_closed_at, unit_paths = closed_lookup(), tree.path_of
    count = 0
    batch = bulk.AssessmentBatch(now=now)
    placements = PlacementIndex(indicator_ids=list(by_indicator))
    indicators = Indicator.objects.filter(pk__in=by_indicator).prefetch_related("targets")
    # The rules run in a thread while this one refreshes the next indicator's roll-ups (and
    # so has its values) and writes the last one's assessments: the database and Python
    # work at the same time.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="styrkort-assess") as pool:
        pending: Future[list[bulk.AssessmentBatch]] | None = None
        for indicator in indicators:
            # Its roll-ups first: the units above a changed one are judged on the new sum.
            values = rollups.refresh_indicator(
                indicator.pk,
                indicator.aggregation,
                indicator.unit,
                now=now,
                tree=tree,
                changed=None if changed is None else changed.get(indicator.pk),
                is_closed=is_closed_at,
            )
            unit_ids = by_indicator[indicator.pk]
            if values is None:
                values = _values_by_unit(indicator.pk, unit_ids)
            elif unit_ids is not None:
                values = {pk: values[pk] for pk in unit_ids if pk in values}
            targets = list(indicator.targets.all())  # prefetched: no query in the thread
            future = pool.submit(
                _assess_indicator,
                indicator,
                targets,
                values,
                ancestries,
                placements,
                batch,
                lambda unit_id, period: is_closed_at(unit_paths[unit_id], period),
            )
            if pending is not None:
                count += _store_assessments(pending.result())
            pending = future
        if pending is not None:
            count += _store_assessments(pending.result())
    return count


def assess_one(
    indicator: Indicator, org_unit_id: int, ancestry: list[int], period: Period
) -> tuple[int, AssessmentResult] | None:
    """What the assessment of one unit and period is now, from the values there are (maybe
    none): the id of the placement that judges it and the result; None when the scorecard
    the unit follows does not place the indicator (ancestry: the unit first)."""
    placements = PlacementIndex(indicator_ids=[indicator.pk])
    placement = placements.placement(indicator.pk, ancestry, period.year)
    if placement is None:
        return None
    by_period = _values_by_unit(indicator.pk, {org_unit_id}).get(org_unit_id, {})
    result = assess(
        indicator,
        list(indicator.targets.all()),
        ancestry,
        period,
        by_period,
        breakdowns=placement.breakdowns,
        scorecard_year=placements.year_of[placement.scorecard_id],
    )
    return placement.pk, result


def _values_by_unit(
    indicator_id: int, unit_ids: set[int] | None
) -> dict[int, dict[str, dict[str, Decimal]]]:
    """org unit id -> period -> breakdown -> value, for one indicator: the unit's own value,
    else what its children add up to."""
    values: dict[int, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    for model in (Aggregate, Measurement):  # own values last: they win
        rows = model.objects.filter(indicator_id=indicator_id)
        if unit_ids is not None:
            rows = rows.filter(org_unit_id__in=unit_ids)
        query = rows.values_list("org_unit_id", "period", "breakdown", "value").query
        sql, params = query.sql_with_params()
        # The cursor, not the ORM's iterator: a million values in a third of the time.
        with db_connection.cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(20_000):
                for unit_id, period, breakdown, value in batch:
                    if not isinstance(value, Decimal):  # SQLite returns floats and ints
                        value = Decimal(str(value))
                    values[unit_id][period][breakdown] = value
    return values


def _assess_indicator(
    indicator: Indicator,
    targets: list[Target],
    values: dict[int, dict[str, dict[str, Decimal]]],
    ancestries: dict[int, list[int]],
    placements: PlacementIndex,
    empty: bulk.AssessmentBatch,
    closed: Callable[[int, str], bool] = lambda unit_id, period: False,
) -> list[bulk.AssessmentBatch]:
    """Pure: every assessment of one indicator, ready for the database (in batches).

    A unit is assessed by the nearest placement of the indicator above it for the period's
    year (its breakdowns, its owner's targets); with none, the value stays unjudged. A
    `closed` unit and period keeps its stored assessment (its values still serve as other
    periods' references).
    """
    cache: dict = {}
    periods: dict[str, Period] = {}
    placed: dict = {}  # (unit, year) -> the placement that judges it, or None
    batches = [empty.new()]
    for unit_id, by_period in values.items():
        ancestry = ancestries[unit_id]
        for period_code in by_period:
            if closed(unit_id, period_code):
                continue
            period = periods.get(period_code)
            if period is None:
                period = periods[period_code] = Period.parse(period_code)
            placement = placed.get((unit_id, period.year), False)
            if placement is False:
                placement = placed[(unit_id, period.year)] = placements.placement(
                    indicator.pk, ancestry, period.year
                )
            if placement is None:
                continue
            result = assess(
                indicator,
                targets,
                ancestry,
                period,
                by_period,
                cache=cache,
                breakdowns=placement.breakdowns,
                scorecard_year=placements.year_of[placement.scorecard_id],
            )
            if batches[-1].count == ASSESSMENT_BATCH:
                batches.append(empty.new())
            batches[-1].add(
                indicator.pk,
                unit_id,
                period_code,
                placement.pk,
                result.status,
                result.trend,
                _details_json(result.details, cache),
            )
    return batches


def _details_json(details: dict[str, dict[str, str | None]], cache: dict) -> str:
    """json.dumps(details), the same text, at a third of the cost: the keys are fixed and
    the values codes or plain numbers; only free text (breakdown keys, target text) is
    escaped by json.dumps, once per distinct text."""
    parts = []
    for breakdown, d in details.items():
        key = ("json", breakdown)
        if key not in cache:
            cache[key] = json.dumps(breakdown)
        target = ("json", d["target"])
        if target not in cache:
            cache[target] = json.dumps(d["target"])
        parts.append(
            f'{cache[key]}: {{"status": {_json_code(d["status"])}, "trend": '
            f'{_json_code(d["trend"])}, "threshold": {_json_code(d["threshold"])}, '
            f'"target": {cache[target]}, "target_value": {_json_code(d["target_value"])}}}'
        )
    return "{" + ", ".join(parts) + "}"


def _json_code(text: str | None) -> str:
    # Status and trend codes and plain numbers: nothing in them needs escaping.
    return "null" if text is None else f'"{text}"'


def _store_assessments(batches: list[bulk.AssessmentBatch]) -> int:
    for batch in batches:
        bulk.upsert_assessments(batch)
    return sum(batch.count for batch in batches)


ASSESSMENT_BATCH = 50_000


@dataclass(frozen=True)
class AssessmentResult:
    status: str
    trend: str
    details: dict[str, dict[str, str | None]]


def resolve_target(
    targets: list[Target],
    *,
    ancestry: list[int],
    year: int,
    breakdown: str,
    has_total: bool,
    scorecard_year: int | None = None,
) -> Target | None:
    """The most specific target: nearest org unit, then exact breakdown, then year.

    Years: the period's own first, then the year of the scorecard in force (a scorecard holds
    until the next one), then standing targets. A target without breakdown covers the total
    and the gender split; other breakdowns of an indicator that has a total (counts written
    beside a share) carry no target of their own.
    """
    generic_applies = breakdown in ("total", "women", "men") or not has_total
    years = (year, scorecard_year, None)
    best, best_rank = None, None
    for target in targets:
        if target.year not in years:
            continue
        if target.breakdown not in (breakdown, ""):
            continue
        if target.breakdown == "" and not generic_applies:
            continue
        if target.org_unit_id is None:
            distance = len(ancestry)
        elif target.org_unit_id in ancestry:
            distance = ancestry.index(target.org_unit_id)
        else:
            continue
        rank = (distance, target.breakdown == "", years.index(target.year))
        if best_rank is None or rank < best_rank:
            best, best_rank = target, rank
    return best


def _spec(target: Target) -> rules.TargetSpec:
    return rules.TargetSpec(
        kind=rules.TargetKind(target.kind),
        value=target.value,
        band=target.band,
        base_year=target.base_year,
        relative_change=target.relative_change,
        annual=target.annual,
    )


def assess(
    indicator: Indicator,
    targets: list[Target],
    ancestry: list[int],
    period: Period,
    by_period: dict[str, dict[str, Decimal]],
    *,
    cache: dict | None = None,
    breakdowns: list[str] | None = None,
    scorecard_year: int | None = None,
) -> AssessmentResult:
    """Status and trend of one indicator at one org unit and period, from plain values.

    `breakdowns`: those the placement follows (default: every one the catalogue knows).
    `cache`: a dict kept across calls for the same indicator and targets, so that recompute
    resolves each target once per org unit, year and breakdown rather than per period.
    """
    breakdowns = breakdowns if breakdowns is not None else indicator.breakdowns
    if cache is None:
        cache = {}
    # Worked out once per period (and indicator) rather than per call: recompute runs this
    # for every unit and period, a million times for a large import.
    derived = cache.get(("period", period.code))
    if derived is None:
        derived = cache[("period", period.code)] = (
            period.year_before().code,
            period.months_elapsed,
            rules.Direction(indicator.direction),
        )
    previous_code, months, direction = derived
    current = by_period.get(period.code, _EMPTY)
    has_total = "total" in breakdowns
    previous_values = by_period.get(previous_code, _EMPTY)
    statuses: dict[str, rules.Status] = {}
    trends: dict[str, rules.Trend] = {}
    details: dict[str, dict[str, str | None]] = {}
    specific = False
    for breakdown in breakdowns:
        value = current.get(breakdown)
        memo = (id(ancestry), period.year, breakdown)
        found = cache.get(memo)
        if found is None:
            target = resolve_target(
                targets,
                ancestry=ancestry,
                year=period.year,
                breakdown=breakdown,
                has_total=has_total,
                scorecard_year=scorecard_year,
            )
            found = cache[memo] = (
                target,
                _spec(target) if target is not None else None,
                (target.text or None) if target else None,
                _plain(target.value) if target and target.breakdown else None,
            )
        target, spec, target_text, target_value = found
        previous = previous_values.get(breakdown)
        threshold = None
        status_code = None
        if target is not None:
            assert spec is not None
            if spec.kind in _CHANGE_KINDS:
                reference = (
                    _reference(by_period, period, breakdown, spec) if spec.base_year else previous
                )
            else:
                reference = None
            threshold = rules.effective_threshold(spec, reference=reference, months_elapsed=months)
            status = rules.evaluate(spec, value, reference=reference, months_elapsed=months)
            statuses[breakdown] = status
            status_code = _CODES[status]
            specific = specific or target.breakdown != ""
        trend = rules.trend(value, previous, direction, band=indicator.trend_band, target=threshold)
        if value is not None or target is not None:
            trends[breakdown] = trend
        plain_threshold = cache.get(("plain", threshold))
        if plain_threshold is None and threshold is not None:
            plain_threshold = cache[("plain", threshold)] = _plain(threshold)
        details[breakdown] = {
            "status": status_code,
            "trend": _CODES[trend],
            "threshold": plain_threshold,
            "target": target_text,
            "target_value": target_value,
        }
    if not statuses:
        status = rules.Status.NOT_ASSESSED
    else:
        status = rules.indicator_status(statuses, breakdown_specific=specific)
    if has_total and "total" in trends:
        overall_trend = trends["total"]
    else:
        overall_trend = rules.combine_trends(trends.values())
    return AssessmentResult(status=_CODES[status], trend=_CODES[overall_trend], details=details)


_EMPTY: dict[str, Decimal] = {}
# Enum member -> its code: a dict lookup is a fraction of the cost of the `.value` property.
_CODES: dict = {member: member.value for member in (*rules.Status, *rules.Trend)}
_CHANGE_KINDS = (rules.TargetKind.INCREASE, rules.TargetKind.DECREASE)


def _reference(
    by_period: dict[str, dict[str, Decimal]], period: Period, breakdown: str, spec: rules.TargetSpec
) -> Decimal | None:
    """The comparison value for increase/decrease targets.

    The same period one year earlier, or in the target's base year; when the base year has
    only an annual figure (a "helår 2020" baseline), that figure.
    """
    if spec.kind not in (rules.TargetKind.INCREASE, rules.TargetKind.DECREASE):
        return None
    base = period.same_period_in(spec.base_year) if spec.base_year else period.year_before()
    value = by_period.get(base.code, {}).get(breakdown)
    if value is None and spec.base_year and period.kind is not PeriodKind.YEAR:
        value = by_period.get(str(spec.base_year), {}).get(breakdown)
    return value


def _plain(number: Decimal | None) -> str | None:
    return None if number is None else plain_decimal(number)


@dataclass(frozen=True)
class Mismatch:
    """A stored assessment that differs from what the rules give for its row (or is
    missing, or should not be there)."""

    indicator_id: int
    org_unit_id: int
    period: str
    stored: tuple | None  # (placement id, status, trend, details)
    expected: tuple | None


def verify_assessments(*, indicator_ids: Iterable[int]) -> Iterator[Mismatch]:
    """Every stored assessment of these indicators against the pure rules, row by row.

    The check of the bulk path (recompute_assessments: values read set-wise, rules memoised
    per indicator, rows written by COPY): here each unit and period is judged on its own by
    `assess` with nothing shared between rows, and every difference is reported, as is an
    assessment missing or one too many. Units and periods under a close are skipped.
    """
    tree = rollups.Tree()
    ancestries = {pk: [pk, *tree.ancestors(pk)] for pk in tree.code_of}
    is_closed_at = closed_lookup()
    ids = list(indicator_ids)
    placements = PlacementIndex(indicator_ids=ids)
    for indicator in Indicator.objects.filter(pk__in=ids).prefetch_related("targets"):
        targets = list(indicator.targets.all())
        stored = {
            (unit_id, period): (placement_id, status, trend, _loaded(details))
            for unit_id, period, placement_id, status, trend, details in Assessment.objects.filter(
                indicator=indicator
            ).values_list(
                "org_unit_id", "period", "placement_id", "computed_status", "trend", "details"
            )
        }
        expected: dict[tuple[int, str], tuple] = {}
        values = _values_by_unit(indicator.pk, None)
        # A manager's analysis or manual status creates an assessment where no value came
        # in (editing.annotate_indicator): it is judged on no value.
        keys = {(unit_id, code) for unit_id, by_period in values.items() for code in by_period}
        keys |= stored.keys()
        for unit_id, code in sorted(keys):
            by_period = values.get(unit_id, {})
            ancestry = ancestries[unit_id]
            if is_closed_at(tree.path_of[unit_id], code):
                stored.pop((unit_id, code), None)
                continue
            period = Period.parse(code)
            placement = placements.placement(indicator.pk, ancestry, period.year)
            if placement is None:
                continue
            result = assess(
                indicator,
                targets,
                list(ancestry),  # a fresh list: no memo of another row applies
                period,
                by_period,
                breakdowns=placement.breakdowns,
                scorecard_year=placements.year_of[placement.scorecard_id],
            )
            expected[(unit_id, code)] = (
                placement.pk,
                result.status,
                result.trend,
                result.details,
            )
        for key in sorted(stored.keys() | expected.keys()):
            if stored.get(key) != expected.get(key):
                yield Mismatch(indicator.pk, *key, stored.get(key), expected.get(key))


def _loaded(details) -> dict:
    return json.loads(details) if isinstance(details, str) else details
