"""Reads of the national comparison: stored values only, never Kolada itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from domain import kolada
from domain.kolada import COUNTRY
from domain.rules import Direction
from indicators.models import Indicator

from .kolada import KOLADA_SOURCE
from .models import BenchmarkArea, BenchmarkKpi, BenchmarkValue, Gender


@dataclass(frozen=True)
class AreaSeries:
    area: str
    name: str
    role: str  # "region", "country" or "peer"
    values: dict[int, Decimal | None]  # year -> total (T)


@dataclass(frozen=True)
class ComparisonYear:
    year: int
    region: dict[str, Decimal | None]  # gender (T, K, M) -> value
    country: dict[str, Decimal | None]
    peers: dict[str, Decimal | None]  # area -> total


@dataclass(frozen=True)
class NationalComparison:
    kpi: BenchmarkKpi
    region: AreaSeries
    country: AreaSeries
    peers: list[AreaSeries]
    years: list[int]  # chronological
    rows: list[ComparisonYear]  # newest first, for the table
    split: bool  # women and men published for the region or the country
    rank: int | None  # the region's place among the regions with a value in rank_year
    rank_of: int
    rank_year: int | None
    higher_is_better: bool | None  # None: no better or worse (closer to target)
    source: str
    publication_date: date | None

    @property
    def official(self) -> bool:
        """Values as Kolada published them (not the demo's example data)."""
        return self.source == KOLADA_SOURCE

    @property
    def series(self) -> list[AreaSeries]:
        return [self.region, self.country, *self.peers]


@dataclass(frozen=True)
class NationalValue:
    kpi: str
    year: int
    value: Decimal
    source: str


def area_names(areas: Iterable[str]) -> dict[str, str]:
    names = dict(BenchmarkArea.objects.filter(pk__in=list(areas)).values_list("id", "title"))
    names[COUNTRY] = _("Riket")
    return names


def national_comparison(indicator: Indicator) -> NationalComparison | None:
    """The region beside the country and the peers for the indicator's Kolada KPI."""
    if not indicator.kolada_kpi:
        return None
    kpi = BenchmarkKpi.objects.filter(pk=indicator.kolada_kpi).first()
    if kpi is None:
        return None
    region = settings.STYRKORT_KOLADA_REGION
    peers = [p for p in settings.STYRKORT_KOLADA_PEERS if p not in (region, COUNTRY)]
    areas = [region, COUNTRY, *peers]
    by: dict[tuple[str, int], dict[str, Decimal | None]] = defaultdict(dict)
    sources = set()
    for v in BenchmarkValue.objects.filter(kpi=kpi, area__in=areas):
        by[(v.area, v.year)][v.gender] = v.value
        sources.add(v.source)
    years = sorted({year for (area, year) in by if area in (region, COUNTRY)})
    if not years:
        return None
    names = area_names(areas)

    def series(area: str, role: str) -> AreaSeries:
        return AreaSeries(
            area=area,
            name=names.get(area, area),
            role=role,
            values={y: by.get((area, y), {}).get(Gender.TOTAL) for y in years},
        )

    higher = {
        Direction.HIGHER_IS_BETTER: True,
        Direction.LOWER_IS_BETTER: False,
    }.get(indicator.direction)
    regions = [region, *peers]
    rank_year = next(
        (y for y in reversed(years) if by.get((region, y), {}).get(Gender.TOTAL) is not None),
        None,
    )
    placed = {
        a: by[(a, rank_year)][Gender.TOTAL]
        for a in regions
        if rank_year is not None and by.get((a, rank_year), {}).get(Gender.TOTAL) is not None
    }
    rank = kolada.rank(placed, region, higher_is_better=higher) if higher is not None else None
    return NationalComparison(
        kpi=kpi,
        region=series(region, "region"),
        country=series(COUNTRY, "country"),
        peers=[series(p, "peer") for p in peers if any((p, y) in by for y in years)],
        years=years,
        rows=[
            ComparisonYear(
                year=y,
                region=by.get((region, y), {}),
                country=by.get((COUNTRY, y), {}),
                peers={p: by.get((p, y), {}).get(Gender.TOTAL) for p in peers},
            )
            for y in reversed(years)
        ],
        split=any(g in by.get((a, y), {}) for a in (region, COUNTRY) for y in years for g in "KM"),
        rank=rank,
        rank_of=len(placed),
        rank_year=rank_year,
        higher_is_better=higher,
        source=" / ".join(sorted(sources)) or kpi.source,
        publication_date=kpi.publication_date,
    )


BREAKDOWN_GENDERS = {"total": Gender.TOTAL, "women": Gender.WOMEN, "men": Gender.MEN}


def national_values(indicators: Iterable[Indicator]) -> dict[int, dict[str, NationalValue]]:
    """Indicator id -> breakdown (total, women, men) -> the country's latest published value,
    for the indicators mapped to a Kolada KPI (one query)."""
    kpi_of = {i.pk: i.kolada_kpi for i in indicators if i.kolada_kpi}
    if not kpi_of:
        return {}
    latest: dict[tuple[str, str], BenchmarkValue] = {}
    for v in BenchmarkValue.objects.filter(
        kpi_id__in=set(kpi_of.values()), area=COUNTRY, value__isnull=False
    ).order_by("kpi_id", "gender", "-year"):
        latest.setdefault((v.kpi_id, v.gender), v)
    result: dict[int, dict[str, NationalValue]] = {}
    for pk, kpi in kpi_of.items():
        for breakdown, gender in BREAKDOWN_GENDERS.items():
            if (v := latest.get((kpi, gender))) is not None:
                result.setdefault(pk, {})[breakdown] = NationalValue(
                    kpi=kpi, year=v.year, value=v.value, source=v.source
                )
    return result
