"""The indicator catalogue and the scorecards that place its indicators.

indicators.definitions reads a scorecard file into IndicatorSpecs; catalogue_conflicts says
where it contradicts the catalogue, place_indicators writes its placements and targets and
recomputes the assessments they change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from divisions.models import OrgUnit
from domain import rules
from scorecard.models import Scorecard

from .models import Aggregation, Indicator, Placement, Target, Unit
from .recompute import recompute_assessments


@dataclass(frozen=True)
class TargetRow:
    breakdown: str
    kind: str
    value: Decimal | None
    band: Decimal | None = None
    base_year: int | None = None
    relative_change: Decimal | None = None
    annual: bool = False
    text: str = ""


@dataclass(frozen=True)
class IndicatorSpec:
    """One indicator as a scorecard file places it."""

    code: str
    success_factor: str
    name: str
    unit: str
    direction: str
    breakdowns: list[str]
    follow_up: list[str]
    baseline_text: str = ""
    order: int = 0
    targets: list[TargetRow] = field(default_factory=list)
    aggregation: str = ""  # "": the catalogue's, or the default for the unit
    kolada_kpi: str = ""  # "": the catalogue's (none for a new indicator)


@dataclass
class UpsertCounts:
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)


def default_aggregation(unit: str) -> str:
    """Shares add up from numerators and denominators, counts and amounts by sum."""
    if unit == Unit.PERCENT:
        return Aggregation.RATIO
    if unit in (Unit.COUNT, Unit.MSEK):
        return Aggregation.SUM
    return Aggregation.NONE


def catalogue_conflicts(specs: list[IndicatorSpec]) -> list[str]:
    """Where a file contradicts the regional catalogue: same code, another unit or direction.

    Names and breakdowns may differ between scorecards; what a number *is* may not (one
    division counting what another reports as a share needs a code of its own).
    """
    stored = {
        i.code: i for i in Indicator.objects.filter(code__in=[s.code for s in specs if s.code])
    }
    problems = []
    for spec in specs:
        indicator = stored.get(spec.code)
        if indicator is None:
            continue
        for label, attribute, wanted in (
            ("unit", "unit", spec.unit),
            ("direction", "direction", spec.direction),
            ("aggregation", "aggregation", spec.aggregation),
            ("Kolada KPI", "kolada_kpi", spec.kolada_kpi),
        ):
            have = getattr(indicator, attribute)
            if attribute == "kolada_kpi" and not have:
                continue  # the file teaches the catalogue its Kolada KPI
            if wanted and have != wanted:
                problems.append(
                    f"indicators.{spec.code}: the catalogue has {label} '{have}', this file "
                    f"'{wanted}'; give the indicator a code of its own"
                )
    return problems


@transaction.atomic
def place_indicators(
    *,
    scorecard: Scorecard,
    specs: list[IndicatorSpec],
    factor_ids: dict[str, int],
    recompute: bool = True,
) -> UpsertCounts:
    """Make the scorecard's placements and its owner's targets for its year equal to `specs`.

    Indicators new to the catalogue are added to it; existing ones only learn new breakdown
    keys. Placements the file no longer names are removed from this scorecard (never from
    another). Assessments of every indicator whose placement or targets changed are
    recomputed before returning; `recompute=False` leaves that to a caller that recomputes
    every indicator it placed once it is done (a bulk load placing indicators that have no
    values yet, on scorecard after scorecard).
    """
    counts = UpsertCounts(
        created={"indicators": 0, "placements": 0, "targets": 0},
        changed={"indicators": 0, "placements": 0, "targets": 0},
    )
    catalogue = {i.code: i for i in Indicator.objects.filter(code__in=[s.code for s in specs])}
    current = {p.indicator_id: p for p in Placement.objects.filter(scorecard=scorecard)}
    retarget: list[int] = []
    kept: set[int] = set()
    for spec in specs:
        indicator = catalogue.get(spec.code)
        if indicator is None:
            indicator = Indicator.objects.create(
                code=spec.code,
                name=spec.name,
                unit=spec.unit,
                direction=spec.direction,
                aggregation=spec.aggregation or default_aggregation(spec.unit),
                breakdowns=spec.breakdowns,
                kolada_kpi=spec.kolada_kpi,
            )
            counts.created["indicators"] += 1
        else:
            learned = []
            if new_keys := [b for b in spec.breakdowns if b not in indicator.breakdowns]:
                indicator.breakdowns = [*indicator.breakdowns, *new_keys]
                learned.append("breakdowns")
            # A file may name the Kolada KPI the catalogue lacks (catalogue_conflicts refuses
            # another one than the catalogue's).
            if spec.kolada_kpi and not indicator.kolada_kpi:
                indicator.kolada_kpi = spec.kolada_kpi
                learned.append("kolada_kpi")
            if learned:
                indicator.save(update_fields=learned)
                counts.changed["indicators"] += 1
        kept.add(indicator.pk)
        fields = {
            "success_factor_id": factor_ids[spec.success_factor],
            "name": spec.name,
            "breakdowns": spec.breakdowns,
            "follow_up": spec.follow_up,
            "baseline_text": spec.baseline_text,
            "order": spec.order,
        }
        placement = current.get(indicator.pk)
        if placement is None:
            Placement.objects.create(scorecard=scorecard, indicator=indicator, **fields)
            counts.created["placements"] += 1
            retarget.append(indicator.pk)
        elif any(getattr(placement, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(placement, k, v)
            placement.save()
            counts.changed["placements"] += 1
            retarget.append(indicator.pk)
        created, changed = _replace_targets(
            indicator, spec.targets, year=scorecard.year, org_unit=scorecard.org_unit
        )
        counts.created["targets"] += created
        counts.changed["targets"] += changed
        if created or changed:
            retarget.append(indicator.pk)
    for indicator_id, placement in current.items():
        if indicator_id not in kept:
            placement.delete()
            counts.changed["placements"] += 1
            retarget.append(indicator_id)
    if retarget and recompute:
        recompute_assessments(indicator_ids=retarget)
    return counts


def _replace_targets(
    indicator: Indicator, rows: list[TargetRow], *, year: int, org_unit: OrgUnit
) -> tuple[int, int]:
    """Make the indicator's targets of `org_unit` for `year` equal to `rows`."""
    current = {
        t.breakdown: t
        for t in Target.objects.filter(indicator=indicator, year=year, org_unit=org_unit)
    }
    wanted = {
        row.breakdown: row
        for row in rows
        if row.kind != rules.TargetKind.NONE or row.breakdown == ""
    }
    created = changed = 0
    for breakdown, target in current.items():
        if breakdown not in wanted:
            target.delete()
            changed += 1
    for breakdown, row in wanted.items():
        fields = {
            "kind": str(row.kind),
            "value": row.value,
            "band": row.band,
            "base_year": row.base_year,
            "relative_change": row.relative_change,
            "annual": row.annual,
            "text": row.text,
        }
        target = current.get(breakdown)
        if target is None:
            Target.objects.create(
                indicator=indicator, year=year, org_unit=org_unit, breakdown=breakdown, **fields
            )
            created += 1
        elif any(_differs(getattr(target, k), v) for k, v in fields.items()):
            for k, v in fields.items():
                setattr(target, k, v)
            target.save()
            changed += 1
    return created, changed


def _differs(stored, new) -> bool:
    if isinstance(stored, Decimal) or isinstance(new, Decimal):
        if stored is None or new is None:
            return stored is not new
        return Decimal(stored) != Decimal(new)
    return stored != new


@transaction.atomic
def copy_scorecard(source: Scorecard, *, org_unit: OrgUnit, year: int) -> Scorecard:
    """A new scorecard for `org_unit` and `year` with the source's success factors,
    placements and targets: the starting point for next year's, or a sister division's.
    """
    copy = Scorecard.objects.create(
        org_unit=org_unit, year=year, name=f"{org_unit.name} {year}", source=str(source)
    )
    factor_ids = {}
    for factor in source.success_factors.order_by("pk"):
        old = factor.pk
        factor.pk = None
        factor.scorecard = copy
        factor.save()
        factor_ids[old] = factor.pk
    placements = list(source.placements.order_by("pk"))
    for placement in placements:
        placement.pk = None
        placement.scorecard = copy
        placement.success_factor_id = factor_ids[placement.success_factor_id]
        placement.save()
    for target in Target.objects.filter(
        indicator__in=[p.indicator_id for p in placements],
        org_unit=source.org_unit,
        year=source.year,
    ):
        target.pk = None
        target.org_unit, target.year = org_unit, year
        target.save()
    recompute_assessments(indicator_ids=[p.indicator_id for p in placements])
    return copy
