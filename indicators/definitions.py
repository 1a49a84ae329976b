"""Loading a scorecard definition (the YAML exchange format) into the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from django.db import transaction
from django.utils import timezone

from divisions.models import OrgUnit, OrgUnitKind
from divisions.services import OrgUnitSpec, upsert_org_units
from domain.kolada import is_kpi_id
from domain.periods import FOLLOW_UP_CODES
from domain.rules import Direction, TargetKind
from domain.targets import TargetParseError, parse_target_text
from indicators.catalogue import IndicatorSpec, TargetRow, catalogue_conflicts, place_indicators
from indicators.models import Aggregation, DirectionChoices, Unit
from scorecard.models import Perspective, Scorecard, StrategicGoal, SuccessFactor


class DefinitionError(Exception):
    """The definition file is not valid; `problems` lists each as 'path: reason'."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class LoadResult:
    created: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def total_created(self) -> int:
        return sum(self.created.values())

    @property
    def total_changed(self) -> int:
        return sum(self.changed.values())


def read_definition(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DefinitionError([f"not valid YAML: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError(["the file must be a mapping with org_units, perspectives, ..."])
    return data


class _Checker:
    """Collects every problem of a definition so that the author fixes them in one pass."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def entries(self, data: Mapping, key: str) -> list[dict]:
        value = data.get(key)
        if not isinstance(value, list) or not value:
            self.problems.append(f"{key}: missing or empty list")
            return []
        good = []
        for index, entry in enumerate(value):
            if isinstance(entry, dict):
                good.append(entry)
            else:
                self.problems.append(f"{key}[{index}]: must be a mapping")
        return good

    def text(self, entry: Mapping, where: str, key: str, *, required: bool = True) -> str:
        value = entry.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(f"{where}.{key}: missing")
            return ""
        return str(value).strip()

    def choice(self, entry: Mapping, where: str, key: str, allowed: list[str]) -> str:
        value = self.text(entry, where, key)
        if value and value not in allowed:
            self.problems.append(f"{where}.{key}: '{value}' is not one of {', '.join(allowed)}")
        return value

    def ref(self, entry: Mapping, where: str, key: str, known: set[str]) -> str:
        value = self.text(entry, where, key)
        if value and value not in known:
            self.problems.append(f"{where}.{key}: unknown code '{value}'")
        return value

    def unique(self, codes: list[str], key: str) -> None:
        seen: set[str] = set()
        for code in codes:
            if code in seen:
                self.problems.append(f"{key}: code '{code}' appears twice")
            seen.add(code)

    def decimal(self, value: Any, where: str) -> Decimal | None:
        if value is None:
            return None
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.problems.append(f"{where}: '{value}' is not a number")
            return None
        if not number.is_finite():
            self.problems.append(f"{where}: '{value}' is not a number")
            return None
        return number

    def day(self, value: Any, where: str) -> date | None:
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problems.append(f"{where}: '{value}' is not a date (YYYY-MM-DD)")
            return None


def _org_unit_specs(check: _Checker, data: Mapping) -> list[OrgUnitSpec]:
    entries = check.entries(data, "org_units")
    in_file = {str(e.get("code")) for e in entries}
    known = in_file | set(OrgUnit.objects.values_list("code", flat=True))
    check.unique([str(e.get("code")) for e in entries], "org_units")
    specs = []
    for index, entry in enumerate(entries):
        where = f"org_units[{index}]"
        kind = check.choice(entry, where, "kind", list(OrgUnitKind.values))
        parent = entry.get("parent")
        if parent is None and kind and kind != OrgUnitKind.REGION:
            check.problems.append(f"{where}.parent: only a region may have no parent")
        if parent is not None:
            check.ref(entry, where, "parent", known)
        specs.append(
            OrgUnitSpec(
                code=check.text(entry, where, "code"),
                name=check.text(entry, where, "name"),
                kind=kind,
                parent=str(parent) if parent is not None else None,
                valid_from=check.day(entry.get("valid_from"), f"{where}.valid_from"),
                valid_to=check.day(entry.get("valid_to"), f"{where}.valid_to"),
            )
        )
    return specs


def _target_rows(check: _Checker, entry: Mapping, where: str, direction: str) -> list[TargetRow]:
    """Targets of one indicator: the structured `target` wins, `target_text` fills the gaps."""
    text = entry.get("target_text")
    text = str(text) if text is not None else None
    structured = entry.get("target") or {}
    if not isinstance(structured, dict):
        check.problems.append(f"{where}.target: must be a mapping")
        return []
    try:
        parsed = parse_target_text(text, direction=Direction(direction))
    except (TargetParseError, ValueError) as exc:
        if not structured.get("kind"):
            check.problems.append(f"{where}.target_text: {exc}")
            return []
        parsed = None

    kind = structured.get("kind") or (parsed.spec.kind if parsed else TargetKind.NONE)
    if kind not in TargetKind:
        check.problems.append(
            f"{where}.target.kind: '{kind}' is not one of {', '.join(TargetKind)}"
        )
        return []
    kind = TargetKind(kind)
    value = check.decimal(structured.get("value"), f"{where}.target.value")
    by_breakdown = structured.get("by_breakdown")
    breakdown_values: dict[str, Decimal | None] = {}
    if isinstance(by_breakdown, dict):
        for key, raw in by_breakdown.items():
            breakdown_values[str(key)] = check.decimal(raw, f"{where}.target.by_breakdown.{key}")
    elif parsed and parsed.by_breakdown:
        breakdown_values = dict(parsed.by_breakdown)

    same_kind = parsed is not None and parsed.spec.kind == kind
    if value is None and same_kind:
        value = parsed.spec.value
    common = {
        "band": check.decimal(structured.get("band"), f"{where}.target.band"),
        "base_year": structured.get("base_year") or (parsed.spec.base_year if same_kind else None),
        "relative_change": check.decimal(
            structured.get("relative_change"), f"{where}.target.relative_change"
        )
        or (parsed.spec.relative_change if same_kind else None),
        "annual": bool(structured.get("annual") or (parsed.spec.annual if same_kind else False)),
        "text": text or "",
    }
    if breakdown_values:
        declared = set(entry.get("breakdowns") or ["total"])
        rows = []
        # Per-breakdown targets are thresholds; their kind follows the indicator's direction
        # when the file gives none (K: 16 % M: 17,2 % on a lower-is-better indicator).
        breakdown_kind = kind
        if breakdown_kind not in (TargetKind.AT_LEAST, TargetKind.AT_MOST):
            breakdown_kind = (
                TargetKind.AT_MOST
                if direction == Direction.LOWER_IS_BETTER
                else TargetKind.AT_LEAST
            )
        for key, number in breakdown_values.items():
            if key not in declared:
                check.problems.append(
                    f"{where}.target.by_breakdown.{key}: not among the breakdowns"
                )
            rows.append(TargetRow(breakdown=key, kind=breakdown_kind, value=number, **common))
        return rows
    if kind in (TargetKind.AT_LEAST, TargetKind.AT_MOST) and value is None:
        check.problems.append(f"{where}.target.value: needed for a target of kind {kind}")
        return []
    return [TargetRow(breakdown="", kind=kind, value=value, **common)]


def _follow_up(check: _Checker, entry: Mapping, where: str) -> list[str]:
    values = entry.get("follow_up") or []
    if not isinstance(values, list):
        check.problems.append(f"{where}.follow_up: must be a list such as [T1, T2, YEAR]")
        return []
    for value in values:
        if str(value) not in FOLLOW_UP_CODES:
            check.problems.append(
                f"{where}.follow_up: '{value}' is not one of {', '.join(sorted(FOLLOW_UP_CODES))}"
            )
    return [str(v) for v in values]


def _owner_code(check: _Checker, definition: Mapping, given: str | None) -> str:
    """The org unit whose scorecard the file is: given, the file's `owner:`, else its division.

    A file naming several divisions and no owner is refused: guessing would put one
    division's indicators on another's scorecard.
    """
    if given or definition.get("owner"):
        return str(given or definition.get("owner"))
    units = [u for u in definition.get("org_units") or [] if isinstance(u, dict)]
    divisions = [str(u.get("code")) for u in units if u.get("kind") == OrgUnitKind.DIVISION]
    regions = [str(u.get("code")) for u in units if u.get("kind") == OrgUnitKind.REGION]
    if len(divisions) == 1:
        return divisions[0]
    if len(divisions) > 1:
        check.problems.append(
            f"owner: the file names {len(divisions)} divisions ({', '.join(divisions)}); "
            "say whose scorecard it is with --org-unit CODE or `owner:`"
        )
    elif len(regions) == 1:
        return regions[0]
    else:
        check.problems.append("owner: say whose scorecard it is with --org-unit CODE or `owner:`")
    return ""


@transaction.atomic
def load_scorecard(
    *,
    definition: Mapping,
    year: int | None = None,
    org_unit: str | None = None,
    source: str = "",
) -> LoadResult:
    """Load one org unit's scorecard for one year; loading twice changes nothing.

    The owner is `org_unit`, else the file's `owner:`, else its single division; the year is
    `year`, else the file's `year:`. Perspectives and strategic goals are the region's;
    success factors, placements and targets are this scorecard's own, so another unit's or
    another year's scorecard is never touched. Nothing is written when anything is wrong.
    """
    check = _Checker()
    year = year or definition.get("year")
    if year is None:
        check.problems.append("year: missing; give --year YYYY or `year:` in the file")
    elif not (isinstance(year, int) and 1900 <= year <= 2999):
        check.problems.append(f"year: '{year}' is not a year")

    org_specs = _org_unit_specs(check, definition)

    perspectives = check.entries(definition, "perspectives")
    if perspectives and len(perspectives) != 5:
        check.problems.append(
            f"perspectives: a scorecard has exactly five, this file has {len(perspectives)}"
        )
    check.unique([str(p.get("code")) for p in perspectives], "perspectives")
    perspective_codes = {str(p.get("code")) for p in perspectives}
    stored = set(Perspective.objects.values_list("code", flat=True))
    if stored and perspectives and stored != perspective_codes:
        check.problems.append(
            "perspectives: the database already holds the perspectives "
            f"{', '.join(sorted(stored))}; a region has one set of five"
        )

    goals = check.entries(definition, "strategic_goals")
    check.unique([str(g.get("code")) for g in goals], "strategic_goals")
    goal_codes = {str(g.get("code")) for g in goals}
    for index, goal in enumerate(goals):
        check.ref(goal, f"strategic_goals[{index}]", "perspective", perspective_codes)

    factors = check.entries(definition, "success_factors")
    check.unique([str(f.get("code")) for f in factors], "success_factors")
    factor_codes = {str(f.get("code")) for f in factors}
    for index, factor in enumerate(factors):
        check.ref(factor, f"success_factors[{index}]", "strategic_goal", goal_codes)

    owner = _owner_code(check, definition, org_unit)
    org_codes = {s.code for s in org_specs} | set(OrgUnit.objects.values_list("code", flat=True))
    if owner and owner not in org_codes:
        check.problems.append(f"owner: unknown org unit '{owner}'")

    indicator_entries = check.entries(definition, "indicators")
    check.unique([str(i.get("code")) for i in indicator_entries], "indicators")
    indicator_specs = []
    for index, entry in enumerate(indicator_entries):
        where = f"indicators[{index}]"
        direction = check.choice(entry, where, "direction", list(DirectionChoices.values))
        breakdowns = entry.get("breakdowns") or ["total"]
        if not isinstance(breakdowns, list) or len(set(map(str, breakdowns))) != len(breakdowns):
            check.problems.append(f"{where}.breakdowns: must be a list of distinct keys")
            breakdowns = ["total"]
        aggregation = ""
        if entry.get("aggregation") is not None:
            aggregation = check.choice(entry, where, "aggregation", list(Aggregation.values))
        kolada_kpi = check.text(entry, where, "kolada", required=False)
        if kolada_kpi and not is_kpi_id(kolada_kpi):
            check.problems.append(
                f"{where}.kolada: '{kolada_kpi}' is not a Kolada KPI id (a letter and five "
                "digits, e.g. N79173)"
            )
        indicator_specs.append(
            IndicatorSpec(
                code=check.text(entry, where, "code"),
                success_factor=check.ref(entry, where, "success_factor", factor_codes),
                name=check.text(entry, where, "name"),
                unit=check.choice(entry, where, "unit", list(Unit.values)),
                direction=direction,
                breakdowns=[str(b).lower() for b in breakdowns],
                follow_up=_follow_up(check, entry, where),
                baseline_text=check.text(entry, where, "baseline_text", required=False),
                order=index,
                targets=_target_rows(check, entry, where, direction or Direction.HIGHER_IS_BETTER),
                aggregation=aggregation,
                kolada_kpi=kolada_kpi,
            )
        )
    check.problems.extend(catalogue_conflicts(indicator_specs))
    if check.problems:
        raise DefinitionError(check.problems)

    result = LoadResult()
    result.created["org_units"], result.changed["org_units"] = upsert_org_units(specs=org_specs)
    owner_kind = OrgUnit.objects.filter(code=owner).values_list("kind", flat=True).first()

    # Perspectives and strategic goals are the region's: any file may add a missing one, but
    # only the region's own scorecard renames them (a division's spelling must not change
    # another division's report).
    regional = owner_kind == OrgUnitKind.REGION
    counts = _upsert_by_code(
        Perspective.objects,
        [
            {
                "code": str(p["code"]),
                "name": str(p["name"]),
                "order": n,
                # A file without descriptions keeps the ones the region wrote.
                **({"description": str(p["description"])} if p.get("description") else {}),
            }
            for n, p in enumerate(perspectives, start=1)
        ],
        update=regional,
    )
    result.created["perspectives"], result.changed["perspectives"] = counts
    perspective_ids = dict(Perspective.objects.values_list("code", "pk"))
    result.created["strategic_goals"], result.changed["strategic_goals"] = _upsert_by_code(
        StrategicGoal.objects,
        [
            {
                "code": str(g["code"]),
                "name": str(g["name"]),
                "order": n,
                "perspective_id": perspective_ids[str(g["perspective"])],
            }
            for n, g in enumerate(goals)
        ],
        update=regional,
    )
    goal_ids = dict(StrategicGoal.objects.values_list("code", "pk"))
    owner_unit = OrgUnit.objects.get(code=owner)
    scorecard, created = Scorecard.objects.get_or_create(org_unit=owner_unit, year=year)
    scorecard.name = str(definition.get("name") or f"{owner_unit.name} {year}")
    scorecard.source = source[:300]
    scorecard.loaded_at = timezone.now()
    scorecard.save()
    result.created["scorecards"], result.changed["scorecards"] = int(created), 0
    own_factors = SuccessFactor.objects.filter(scorecard=scorecard)
    result.created["success_factors"], result.changed["success_factors"] = _upsert_by_code(
        own_factors,
        [
            {
                "code": str(f["code"]),
                "name": str(f["name"]),
                "order": n,
                "strategic_goal_id": goal_ids[str(f["strategic_goal"])],
                "scorecard_id": scorecard.pk,
            }
            for n, f in enumerate(factors)
        ],
    )
    factor_ids = dict(own_factors.values_list("code", "pk"))
    placed = place_indicators(scorecard=scorecard, specs=indicator_specs, factor_ids=factor_ids)
    result.created.update(placed.created)
    result.changed.update(placed.changed)
    # Success factors the file dropped go, unless an action still points at one.
    dropped = own_factors.exclude(code__in=factor_codes).filter(
        placements__isnull=True, action__isnull=True
    )
    result.changed["success_factors"] += dropped.count()
    dropped.delete()
    return result


def _upsert_by_code(objects, rows: list[dict], *, update: bool = True) -> tuple[int, int]:
    existing = {obj.code: obj for obj in objects.filter(code__in=[r["code"] for r in rows])}
    created = changed = 0
    for row in rows:
        obj = existing.get(row["code"])
        if obj is None:
            objects.model.objects.create(**row)
            created += 1
        elif not update:
            continue
        elif any(getattr(obj, k) != v for k, v in row.items()):
            for k, v in row.items():
                setattr(obj, k, v)
            obj.save()
            changed += 1
    return created, changed
