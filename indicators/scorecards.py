"""Which scorecard, and which placement of an indicator, applies to an org unit and year.

A scorecard holds from its year until its org unit's next one. A unit without a scorecard of
its own follows the nearest unit above it that has one (a health centre follows its
division's). An indicator is judged at a unit by the nearest placement of it up the tree: a
region key figure reported by health centres is judged by the region's scorecard there.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Prefetch

from divisions.models import OrgUnit
from scorecard.models import Scorecard

from .models import Placement, Target


def scorecard_for(org_unit: OrgUnit, year: int) -> Scorecard | None:
    """The scorecard an org unit follows in `year`: its own, else the nearest above it."""
    candidates = (
        Scorecard.objects.filter(org_unit__code__in=org_unit.lineage_codes, year__lte=year)
        .select_related("org_unit")
        .order_by("-org_unit__path", "-year")
    )
    return candidates.first()


def placements_of(
    scorecard: Scorecard | None, *, target_year: int | None = None
) -> list[Placement]:
    """The scorecard's placements in report order, with their targets prefetched.

    Targets: the indicator's, those of `target_year` (default the scorecard's year) and
    standing ones; the caller resolves which of them applies to a unit.
    """
    if scorecard is None:
        return []
    year = target_year or scorecard.year
    targets = Target.objects.filter(year__in=[year, scorecard.year]).order_by("pk")
    standing = Target.objects.filter(year__isnull=True).order_by("pk")
    return list(
        Placement.objects.filter(scorecard=scorecard)
        .select_related("indicator", "success_factor__strategic_goal__perspective")
        .prefetch_related(
            Prefetch("indicator__targets", queryset=(targets | standing).order_by("pk"))
        )
    )


def placements_for(org_unit: OrgUnit, year: int) -> list[Placement]:
    """The placements on the scorecard an org unit follows in `year`, in report order."""
    return placements_of(scorecard_for(org_unit, year), target_year=year)


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
        """The scorecard a unit itself has for `year` (not one inherited)."""
        for scorecard_year, pk in self.scorecards.get(unit_id, ()):
            if scorecard_year <= year:
                return pk
        return None

    def placement(self, indicator_id: int, ancestry: list[int], year: int) -> Placement | None:
        """The nearest placement of the indicator for a unit (ancestry: the unit first)."""
        for unit_id in ancestry:
            scorecard = self.scorecard_at(unit_id, year)
            if scorecard is not None:
                found = self.placed.get((scorecard, indicator_id))
                if found is not None:
                    return found
        return None
