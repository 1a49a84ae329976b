"""The indicator catalogue: indicators and their region-wide targets, as definitions say.

indicators.definitions reads the definition files into IndicatorSpecs; upsert_indicators
writes them and recomputes the assessments whose targets changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from divisions.models import OrgUnit
from domain import rules
from scorecard.models import SuccessFactor

from .models import Indicator, Target
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


@dataclass
class UpsertCounts:
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)


@transaction.atomic
def upsert_indicators(
    *, specs: list[IndicatorSpec], owner: OrgUnit | None, year: int | None
) -> UpsertCounts:
    """Create or update indicators and their region-wide targets for `year`.

    Targets of the same indicator, year and scope that the definition no longer names are
    removed, so the file stays the source of truth. Assessments of every indicator whose
    targets changed are recomputed before returning.
    """
    factor_ids = dict(SuccessFactor.objects.values_list("code", "pk"))
    existing = {i.code: i for i in Indicator.objects.filter(code__in=[s.code for s in specs])}
    counts = UpsertCounts(
        created={"indicators": 0, "targets": 0}, changed={"indicators": 0, "targets": 0}
    )
    retarget: list[int] = []
    for spec in specs:
        fields = {
            "success_factor_id": factor_ids[spec.success_factor],
            "owner_id": owner.pk if owner else None,
            "name": spec.name,
            "unit": spec.unit,
            "direction": spec.direction,
            "breakdowns": spec.breakdowns,
            "follow_up": spec.follow_up,
            "baseline_text": spec.baseline_text,
            "order": spec.order,
        }
        indicator = existing.get(spec.code)
        if indicator is None:
            indicator = Indicator.objects.create(code=spec.code, **fields)
            counts.created["indicators"] += 1
        elif any(getattr(indicator, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(indicator, k, v)
            indicator.save()
            counts.changed["indicators"] += 1
            retarget.append(indicator.pk)
        created, changed = _replace_targets(indicator, spec.targets, year=year)
        counts.created["targets"] += created
        counts.changed["targets"] += changed
        if created or changed:
            retarget.append(indicator.pk)
    if retarget:
        recompute_assessments(indicator_ids=retarget)
    return counts


def _replace_targets(
    indicator: Indicator, rows: list[TargetRow], *, year: int | None
) -> tuple[int, int]:
    """Make the indicator's region-wide targets for `year` equal to `rows`."""
    current = {
        t.breakdown: t
        for t in Target.objects.filter(indicator=indicator, year=year, org_unit__isnull=True)
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
                indicator=indicator, year=year, org_unit=None, breakdown=breakdown, **fields
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
