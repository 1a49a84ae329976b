"""Which scorecard, and which placement of an indicator, applies to an org unit and year.

A scorecard holds from its year until its org unit's next one. A unit without a scorecard of
its own follows the nearest unit above it that has one (a health centre follows its
division's), and is judged by that scorecard's placements only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Prefetch, Q

from divisions.models import OrgUnit
from scorecard.models import Scorecard

from .models import Placement, Target


def scorecard_for(org_unit: OrgUnit, year: int) -> Scorecard | None:
    """The scorecard an org unit follows in `year`: its own, else the nearest above it.

    A unit's scorecard holds from its year until the unit's next one; before its first one,
    the first one judges the history loaded for earlier years.
    """
    candidates = Scorecard.objects.filter(org_unit__code__in=org_unit.lineage_codes)
    nearest = candidates.order_by("-org_unit__path").values_list("org_unit_id", flat=True)[:1]
    own = candidates.filter(org_unit_id__in=nearest).select_related("org_unit")
    return own.filter(year__lte=year).order_by("-year").first() or own.order_by("year").first()


def scorecards_followed(
    org_units: Iterable[OrgUnit], years: Iterable[int]
) -> dict[tuple[int, int], tuple[int, int] | None]:
    """scorecard_for for many units and years in one query: (org unit id, year) -> the id
    and year of the scorecard the unit follows, or None."""
    units, years = list(org_units), sorted(set(years))
    codes = {code for unit in units for code in unit.lineage_codes}
    own: dict[str, list[tuple[int, int]]] = defaultdict(list)  # code -> [(year, id)], newest first
    for pk, code, year in (
        Scorecard.objects.filter(org_unit__code__in=codes)
        .order_by("-year")
        .values_list("pk", "org_unit__code", "year")
    ):
        own[code].append((year, pk))
    found: dict[tuple[int, int], tuple[int, int] | None] = {}
    for unit in units:
        nearest = next((own[c] for c in reversed(unit.lineage_codes) if own.get(c)), None)
        for year in years:
            if nearest is None:
                found[(unit.pk, year)] = None
                continue
            year_and_pk = next((yp for yp in nearest if yp[0] <= year), nearest[-1])
            found[(unit.pk, year)] = (year_and_pk[1], year_and_pk[0])
    return found


def placements_of(
    scorecard: Scorecard | None, *, target_year: int | None = None, within: OrgUnit | None = None
) -> list[Placement]:
    """The scorecard's placements in report order, with their targets prefetched.

    Targets: those of `target_year` (default the scorecard's year), of the scorecard's year
    and standing ones, set by `within`'s lineage or region-wide (all units without it); the
    caller resolves which of them applies.
    """
    if scorecard is None:
        return []
    years = Q(year__in=[target_year or scorecard.year, scorecard.year]) | Q(year__isnull=True)
    scope = Q()
    if within is not None:
        scope = Q(org_unit__isnull=True) | Q(org_unit__code__in=within.lineage_codes)
    targets = Target.objects.filter(years, scope).select_related("org_unit").order_by("pk")
    return list(
        Placement.objects.filter(scorecard=scorecard)
        .select_related("indicator", "success_factor__strategic_goal__perspective")
        .prefetch_related(Prefetch("indicator__targets", queryset=targets))
    )


def placements_for(org_unit: OrgUnit, year: int) -> list[Placement]:
    """The placements on the scorecard an org unit follows in `year`, in report order,
    with the targets that can apply to the unit."""
    return placements_of(scorecard_for(org_unit, year), target_year=year, within=org_unit)


def placement_for(org_unit: OrgUnit, year: int, code: str) -> Placement | None:
    """The indicator `code` as the org unit's scorecard for `year` places it, if it does."""
    scorecard = scorecard_for(org_unit, year)
    if scorecard is None:
        return None
    return (
        Placement.objects.filter(scorecard=scorecard, indicator__code=code)
        .select_related("indicator", "success_factor__strategic_goal__perspective", "scorecard")
        .first()
    )


class PlacementIndex:
    """Every scorecard and placement in memory, for bulk paths (recompute, imports).

    A region holds a few dozen scorecards of some tens of placements each: one query each.
    """

    def __init__(self, indicator_ids: list[int] | None = None) -> None:
        # org unit id -> [(year, scorecard id)], newest first
        self.scorecards: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.year_of: dict[int, int] = {}
        for pk, unit_id, year in Scorecard.objects.order_by("-year").values_list(
            "pk", "org_unit_id", "year"
        ):
            self.scorecards[unit_id].append((year, pk))
            self.year_of[pk] = year
        placements = Placement.objects.all()
        if indicator_ids is not None:
            placements = placements.filter(indicator_id__in=indicator_ids)
        # (scorecard id, indicator id) -> placement
        self.placed: dict[tuple[int, int], Placement] = {
            (p.scorecard_id, p.indicator_id): p for p in placements
        }

    def scorecard_at(self, unit_id: int, year: int) -> int | None:
        """The scorecard a unit itself has for `year` (not one inherited); before its first
        one, the first (see scorecard_for)."""
        own = self.scorecards.get(unit_id)
        if not own:
            return None
        for scorecard_year, pk in own:
            if scorecard_year <= year:
                return pk
        return own[-1][1]

    def placement(self, indicator_id: int, ancestry: list[int], year: int) -> Placement | None:
        """The indicator on the scorecard a unit follows (ancestry: the unit first), if there.

        A unit is judged only on its own scorecard's indicators; a value for another one
        still adds up to the units above whose scorecards place it.
        """
        for unit_id in ancestry:
            scorecard = self.scorecard_at(unit_id, year)
            if scorecard is not None:
                return self.placed.get((scorecard, indicator_id))
        return None

    def placed_within(self, indicator_id: int, ancestry: list[int], year: int) -> bool:
        """Whether the scorecard of the unit or of any unit above it places the indicator
        that year: a value for it there is judged or added up somewhere."""
        for unit_id in ancestry:
            scorecard = self.scorecard_at(unit_id, year)
            if scorecard is not None and (scorecard, indicator_id) in self.placed:
                return True
        return False
