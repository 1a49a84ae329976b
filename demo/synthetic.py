"""Synthetic multi-year history: clearly named test data for trends, benchmarks and load tests.

Everything generated is named "... (testdata)" and coded `syn_div_NN...`, hangs under the
region, and is attributed to one Import record (source demo, filename "synthetic"), so it can
never be mistaken for real figures and can be removed as a whole.

Values are built bottom-up: each leaf org unit gets monthly figures per sex (numerator and
denominator for shares, counts otherwise) from a per-unit level and yearly trend; areas and
the division are the sums of their units, tertials are year-to-date sums and totals are
women + men. So every figure aggregates consistently up the organisation and over time, as
real imports should.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import batched

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from divisions.models import OrgUnit, OrgUnitKind
from divisions.services import OrgUnitSpec, upsert_org_units
from domain.rules import Direction, TargetKind
from indicators.catalogue import IndicatorSpec, TargetRow, upsert_indicators
from indicators.models import (
    Assessment,
    Import,
    ImportSource,
    ImportStatus,
    Indicator,
    Measurement,
    MeasurementRevision,
    Target,
    Unit,
)
from indicators.recompute import recompute_assessments
from scorecard.models import Action, PerspectiveAssessment, SuccessFactor

REGION_CODE = "region_norrbotten"
# "syn" alone is a Swedish word (sight): a real indicator may well be coded "syn_...", so
# everything synthetic shares the longer prefix and only that prefix is ever purged.
CODE_PREFIX = "syn_div_"
SYNTHETIC_FILENAME = "synthetic"
# Part of the parameter hash: bump it when the generated values change, so that an older
# synthetic data set is regenerated instead of skipped as "already loaded".
GENERATOR_VERSION = 1
BATCH_SIZE = 5000
BREAKDOWNS = ["total", "women", "men"]
FOLLOW_UP = ["T1", "T2", "T3", "YEAR", "MONTH"]
PERIODS_PER_YEAR = 16  # the year, T1..T3 and 12 months
# Relative monthly volume (summer holidays, Christmas) so that month series look real.
SEASON = (1.05, 1.05, 1.0, 1.0, 0.95, 0.85, 0.65, 0.8, 1.0, 1.05, 1.05, 0.9)
SUMMER_DIP = (0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 0)  # shares get worse when staff are on leave

ProgressCallback = Callable[[str, int, float], None]  # (phase, rows so far, seconds elapsed)


@dataclass(frozen=True)
class SyntheticSizes:
    divisions: int = 3
    areas: int = 3
    units: int = 4  # per area
    indicators: int = 12  # per division
    years: int = 4
    first_year: int = 2019
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("divisions", "indicators", "years"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        for name in ("areas", "units"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative")
        if not 1900 <= self.first_year <= 2999 - self.years:
            raise ValueError(f"first year {self.first_year} is out of range")

    @property
    def org_units_per_division(self) -> int:
        return 1 + self.areas + self.areas * self.units

    @property
    def expected_measurements(self) -> int:
        return (
            self.divisions
            * self.org_units_per_division
            * self.indicators
            * self.years
            * PERIODS_PER_YEAR
            * len(BREAKDOWNS)
        )

    @property
    def year_range(self) -> range:
        return range(self.first_year, self.first_year + self.years)

    def digest(self) -> str:
        params = {"generator": GENERATOR_VERSION, **self.__dict__}
        return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


@dataclass
class SyntheticResult:
    sizes: SyntheticSizes
    record: Import
    skipped: bool  # the same data set was already complete; nothing was written
    measurements: int = 0
    assessments: int = 0
    purged: int = 0
    insert_seconds: float = 0.0
    assess_seconds: float = 0.0
    division_codes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- indicator kinds


@dataclass(frozen=True)
class _Kind:
    """One kind of synthetic indicator: its definition, targets and value model."""

    key: str
    unit: str
    direction: str
    share: bool
    target_kind: str
    per_breakdown: bool = False
    # Value model: share levels in percent (women, men); counts per month and sex.
    level: tuple[float, float] = (0.0, 0.0)
    spread: float = 0.0  # between units
    drift: tuple[float, float] = (0.0, 0.0)  # yearly trend: mean, spread between units
    noise: float = 0.0  # month to month
    volume: tuple[int, int] = (0, 0)  # denominator (shares) or count (counts) per month

    def targets(self, year_index: int) -> list[TargetRow]:
        if self.target_kind == TargetKind.AT_LEAST:
            value = Decimal(85 + min(year_index, 5))  # a target that tightens year by year
            return [TargetRow("", TargetKind.AT_LEAST, value, text=f"Minst {value} %")]
        if self.target_kind == TargetKind.AT_MOST and self.per_breakdown:
            women = Decimal("7.5") - Decimal("0.2") * min(year_index, 5)
            men = Decimal("5.0") - Decimal("0.1") * min(year_index, 5)
            text = f"K: {_sv(women)} % M: {_sv(men)} %"
            return [
                TargetRow("women", TargetKind.AT_MOST, women, text=text),
                TargetRow("men", TargetKind.AT_MOST, men, text=text),
            ]
        if self.target_kind == TargetKind.AT_MOST:
            return [TargetRow("", TargetKind.AT_MOST, Decimal(12), text="Högst 12 %")]
        if self.target_kind == TargetKind.INCREASE:
            return [TargetRow("", TargetKind.INCREASE, None, text="Öka")]
        if self.target_kind == TargetKind.DECREASE:
            return [TargetRow("", TargetKind.DECREASE, None, text="Minska")]
        return [TargetRow("", TargetKind.NONE, None, text="Följs upp")]


# Cycled through per division, so any 6 consecutive indicators cover every target kind;
# levels sit around the targets so that some units fulfil them, some partly, some not.
KINDS: tuple[_Kind, ...] = (
    _Kind(
        "share_at_least",
        Unit.PERCENT,
        Direction.HIGHER_IS_BETTER,
        True,
        TargetKind.AT_LEAST,
        level=(86.0, 84.0),
        spread=6.0,
        drift=(0.4, 1.2),
        noise=2.5,
        volume=(30, 300),
    ),
    _Kind(
        "count_increase",
        Unit.COUNT,
        Direction.HIGHER_IS_BETTER,
        False,
        TargetKind.INCREASE,
        drift=(0.015, 0.05),
        noise=0.12,
        volume=(40, 800),
    ),
    _Kind(
        "share_km_at_most",
        Unit.PERCENT,
        Direction.LOWER_IS_BETTER,
        True,
        TargetKind.AT_MOST,
        per_breakdown=True,
        level=(7.8, 5.2),
        spread=1.2,
        drift=(-0.1, 0.4),
        noise=0.8,
        volume=(2000, 20000),
    ),
    _Kind(
        "count_decrease",
        Unit.COUNT,
        Direction.LOWER_IS_BETTER,
        False,
        TargetKind.DECREASE,
        drift=(-0.03, 0.08),
        noise=0.25,
        volume=(3, 40),
    ),
    _Kind(
        "count_none",
        Unit.COUNT,
        Direction.HIGHER_IS_BETTER,
        False,
        TargetKind.NONE,
        drift=(0.03, 0.05),
        noise=0.1,
        volume=(100, 2000),
    ),
    _Kind(
        "share_at_most",
        Unit.PERCENT,
        Direction.LOWER_IS_BETTER,
        True,
        TargetKind.AT_MOST,
        level=(11.5, 12.5),
        spread=3.0,
        drift=(-0.2, 0.8),
        noise=1.5,
        volume=(20, 200),
    ),
)


def _sv(number: Decimal) -> str:
    return f"{number:.1f}".replace(".", ",")


# --------------------------------------------------------------------------- entry point


def generate_synthetic(
    sizes: SyntheticSizes, *, progress: ProgressCallback | None = None
) -> SyntheticResult:
    """Load the synthetic history for `sizes`; the demo scorecard must be loaded first.

    Idempotent in one transaction: if an Import with the same parameter hash succeeded and
    still holds every row, nothing is done (a re-run of a 5 M data set costs one count).
    Otherwise every earlier synthetic object is purged and the set is generated afresh;
    purging rather than upserting also removes what a run with larger sizes left behind.
    """
    digest = sizes.digest()
    with transaction.atomic():
        done = (
            Import.objects.filter(
                source=ImportSource.DEMO,
                filename=SYNTHETIC_FILENAME,
                sha256=digest,
                status=ImportStatus.SUCCEEDED,
            )
            .order_by("-pk")
            .first()
        )
        if done is not None and done.measurements.count() == sizes.expected_measurements:
            return SyntheticResult(
                sizes=sizes,
                record=done,
                skipped=True,
                measurements=done.created,
                division_codes=_division_codes(sizes),
            )
        purged = purge_synthetic()
        record = Import.start(
            filename=SYNTHETIC_FILENAME,
            sha256=digest,
            size=0,
            source=ImportSource.DEMO,
            rows_total=sizes.expected_measurements,
        )
        result = SyntheticResult(
            sizes=sizes,
            record=record,
            skipped=False,
            purged=purged,
            division_codes=_division_codes(sizes),
        )
        tree = _create_org_units(sizes)
        indicators = _create_indicators(sizes, tree)

        started = time.monotonic()
        now = timezone.now()
        for division_code, division_indicators in indicators.items():
            for indicator, kind in division_indicators:
                rows = _measurements(indicator, kind, tree[division_code], sizes, record.pk, now)
                for batch in batched(rows, BATCH_SIZE):
                    Measurement.objects.bulk_create(batch, batch_size=BATCH_SIZE)
                    result.measurements += len(batch)
                    if progress:
                        progress("measurements", result.measurements, time.monotonic() - started)
        result.insert_seconds = time.monotonic() - started

        started = time.monotonic()
        for division_code, division_indicators in indicators.items():
            result.assessments += recompute_assessments(
                indicator_ids=[indicator.pk for indicator, _ in division_indicators]
            )
            if progress:
                progress(
                    f"assessments {division_code}", result.assessments, time.monotonic() - started
                )
        result.assess_seconds = time.monotonic() - started

        record.mark_loaded(created=result.measurements)
    return result


def _division_codes(sizes: SyntheticSizes) -> list[str]:
    return [f"{CODE_PREFIX}{d:02d}" for d in range(1, sizes.divisions + 1)]


# --------------------------------------------------------------------------- purge


def purge_synthetic() -> int:
    """Delete every synthetic object; returns the number of measurements removed.

    Anything attached to a synthetic org unit is test data too (a value or an action
    someone entered while trying the demo), so it goes with the unit rather than blocking it.
    """
    unit_ids = list(
        OrgUnit.objects.filter(code__startswith=CODE_PREFIX).values_list("pk", flat=True)
    )
    indicator_ids = list(
        Indicator.objects.filter(code__startswith=CODE_PREFIX).values_list("pk", flat=True)
    )
    if not unit_ids and not indicator_ids:
        Import.objects.filter(source=ImportSource.DEMO, filename=SYNTHETIC_FILENAME).delete()
        return 0
    attached = Q(indicator_id__in=indicator_ids) | Q(org_unit_id__in=unit_ids)
    MeasurementRevision.objects.filter(
        Q(measurement__indicator_id__in=indicator_ids) | Q(measurement__org_unit_id__in=unit_ids)
    ).delete()
    Assessment.objects.filter(attached).delete()
    removed = _raw_delete_measurements(indicator_ids, unit_ids)
    Target.objects.filter(attached).delete()
    PerspectiveAssessment.objects.filter(org_unit_id__in=unit_ids).delete()
    Action.objects.filter(org_unit_id__in=unit_ids).delete()
    Indicator.objects.filter(pk__in=indicator_ids).delete()
    Import.objects.filter(source=ImportSource.DEMO, filename=SYNTHETIC_FILENAME).delete()
    # Children before parents: parent is PROTECT.
    units = OrgUnit.objects.filter(pk__in=unit_ids).only("pk", "path")
    for depth in sorted({unit.depth for unit in units}, reverse=True):
        OrgUnit.objects.filter(pk__in=[u.pk for u in units if u.depth == depth]).delete()
    return removed


def _raw_delete_measurements(indicator_ids: list[int], unit_ids: list[int]) -> int:
    # QuerySet.delete() would load every measurement to cascade to its revisions (already
    # deleted above): millions of objects. One DELETE per chunk of ids instead.
    table = connection.ops.quote_name(Measurement._meta.db_table)
    removed = 0
    with connection.cursor() as cursor:
        for column, ids in (("indicator_id", indicator_ids), ("org_unit_id", unit_ids)):
            for chunk in batched(ids, 500):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", chunk)
                removed += max(cursor.rowcount, 0)
    return removed


# --------------------------------------------------------------------------- structure


@dataclass
class _DivisionTree:
    """A division's org units as primary keys, with the leaves under each."""

    division_pk: int
    leaves: list[int]  # leaf unit pks, in generation order
    # (org unit pk, indices into `leaves` it sums), the division first
    nodes: list[tuple[int, list[int]]]


def _create_org_units(sizes: SyntheticSizes) -> dict[str, _DivisionTree]:
    specs: list[OrgUnitSpec] = []
    layout: dict[str, list[tuple[str, list[str]]]] = {}
    for d in range(1, sizes.divisions + 1):
        division = f"{CODE_PREFIX}{d:02d}"
        specs.append(
            OrgUnitSpec(
                division,
                f"Syntetisk division {d:02d} (testdata)",
                OrgUnitKind.DIVISION,
                REGION_CODE,
            )
        )
        areas = []
        for a in range(1, sizes.areas + 1):
            area = f"{division}_vo_{a:02d}"
            specs.append(
                OrgUnitSpec(
                    area, f"Syntetiskt VO {d:02d}.{a:02d} (testdata)", OrgUnitKind.AREA, division
                )
            )
            units = []
            for u in range(1, sizes.units + 1):
                unit = f"{area}_e_{u:02d}"
                name = f"Syntetisk enhet {d:02d}.{a:02d}.{u:02d} (testdata)"
                specs.append(OrgUnitSpec(unit, name, OrgUnitKind.UNIT, area))
                units.append(unit)
            areas.append((area, units))
        layout[division] = areas
    upsert_org_units(specs=specs)  # computes the materialised paths

    pks = dict(OrgUnit.objects.filter(code__startswith=CODE_PREFIX).values_list("code", "pk"))
    trees = {}
    for division, areas in layout.items():
        # The lowest level present holds the generated figures; the levels above are sums.
        if not areas:
            leaves = [division]
        else:
            leaves = [unit for _, units in areas for unit in units] or [area for area, _ in areas]
        index = {code: i for i, code in enumerate(leaves)}
        nodes = [(pks[division], list(range(len(leaves))))]
        for area, units in areas:
            nodes.append((pks[area], [index[u] for u in units] if units else [index[area]]))
            nodes.extend((pks[unit], [index[unit]]) for unit in units)
        trees[division] = _DivisionTree(pks[division], [pks[c] for c in leaves], nodes)
    return trees


def _create_indicators(
    sizes: SyntheticSizes, trees: dict[str, _DivisionTree]
) -> dict[str, list[tuple[Indicator, _Kind]]]:
    # Round-robin over perspectives first, then over each perspective's success factors:
    # plain round-robin over the factors would leave Ekonomi (the last two) empty for
    # fewer than 14 indicators.
    by_perspective: dict[int, list[str]] = {}
    for code, perspective in SuccessFactor.objects.values_list(
        "code", "strategic_goal__perspective__order"
    ).order_by("strategic_goal__perspective__order", "strategic_goal__order", "order", "pk"):
        by_perspective.setdefault(perspective, []).append(code)
    if not by_perspective:
        raise ValueError("no success factors: load the demo scorecard first")
    groups = list(by_perspective.values())

    result: dict[str, list[tuple[Indicator, _Kind]]] = {}
    for division_code, tree in trees.items():
        owner = OrgUnit.objects.get(pk=tree.division_pk)
        kinds = {}
        for year_index, year in enumerate(sizes.year_range):
            specs = []
            for i in range(sizes.indicators):
                kind = KINDS[i % len(KINDS)]
                group = groups[i % len(groups)]
                code = f"{division_code}_i_{i + 1:02d}"
                kinds[code] = kind
                specs.append(
                    IndicatorSpec(
                        code=code,
                        success_factor=group[(i // len(groups)) % len(group)],
                        name=f"Syntetiskt styrmått {i + 1:02d} (testdata)",
                        unit=kind.unit,
                        direction=kind.direction,
                        breakdowns=list(BREAKDOWNS),
                        follow_up=list(FOLLOW_UP),
                        order=i,
                        targets=kind.targets(year_index),
                    )
                )
            upsert_indicators(specs=specs, owner=owner, year=year)
        indicators = Indicator.objects.filter(code__in=kinds).order_by("code")
        result[division_code] = [(indicator, kinds[indicator.code]) for indicator in indicators]
    return result


# --------------------------------------------------------------------------- values


def _leaf_series(kind: _Kind, rng: random.Random, years: int) -> list[list[list[int]]]:
    """[year][channel][month] integers for one leaf unit.

    Channels: shares (women num, women den, men num, men den); counts (women, men).
    """
    params = []
    for sex in range(2):
        params.append(
            (
                kind.level[sex] + rng.gauss(0, kind.spread),  # share level, percent
                rng.gauss(*kind.drift),  # pp per year (shares) or growth rate (counts)
                rng.randint(*kind.volume),
            )
        )
    series = []
    for y in range(years):
        channels: list[list[int]] = []
        for level, drift, volume in params:
            if kind.share:
                nums, dens = [], []
                # Summer staffing makes every share worse: lower if higher is better.
                worse = -1.0 if kind.direction == Direction.LOWER_IS_BETTER else 1.0
                for m in range(12):
                    den = max(1, int(volume * SEASON[m] * rng.uniform(0.85, 1.15)))
                    pct = level + drift * y - worse * SUMMER_DIP[m] + rng.gauss(0, kind.noise)
                    pct = min(max(pct, 0.0), 100.0)
                    nums.append(min(den, int(den * pct / 100 + 0.5)))
                    dens.append(den)
                channels += [nums, dens]
            else:
                base = volume * (1 + drift) ** y
                channels.append(
                    [
                        max(0, int(base * SEASON[m] * (1 + rng.gauss(0, kind.noise)) + 0.5))
                        for m in range(12)
                    ]
                )
        series.append(channels)
    return series


def _periods(year: int) -> list[tuple[str, int, int]]:
    """(code, first month index, end month index) of each period; tertials are year-to-date."""
    periods = [(str(year), 0, 12)]
    periods += [(f"{year}-T{t}", 0, 4 * t) for t in (1, 2, 3)]
    periods += [(f"{year}-{m:02d}", m - 1, m) for m in range(1, 13)]
    return periods


def _share(num: int, den: int) -> Decimal:
    # 100 * num / den rounded half up to one decimal, in integers so it is exact.
    return Decimal((2000 * num + den) // (2 * den)).scaleb(-1)


class _MeasurementFactory:
    """Builds Measurement instances from positional field values.

    Model.__init__ with keyword arguments costs twice as much as with every field given
    positionally (the path Model.from_db takes); at millions of rows that is a tenth of
    the run. The order comes from the model's own field list, so a new field gets its default.
    """

    def __init__(self, indicator_pk: int, import_pk: int, now) -> None:
        fields = Measurement._meta.concrete_fields
        self.template = [None if f.primary_key else f.get_default() for f in fields]
        index = {f.attname: i for i, f in enumerate(fields)}
        self.template[index["indicator_id"]] = indicator_pk
        self.template[index["source_import_id"]] = import_pk
        self.template[index["updated_at"]] = now
        self.slots = [
            index[name]
            for name in ("org_unit_id", "period", "breakdown", "value", "numerator", "denominator")
        ]

    def __call__(
        self,
        unit_pk: int,
        period: str,
        breakdown: str,
        value: Decimal,
        numerator: Decimal | None,
        denominator: Decimal | None,
    ) -> Measurement:
        args = self.template.copy()
        u, p, b, v, n, d = self.slots
        args[u], args[p], args[b], args[v], args[n], args[d] = (
            unit_pk,
            period,
            breakdown,
            value,
            numerator,
            denominator,
        )
        return Measurement(*args)


def _measurements(
    indicator: Indicator,
    kind: _Kind,
    tree: _DivisionTree,
    sizes: SyntheticSizes,
    import_pk: int,
    now,
) -> Iterator[Measurement]:
    """Every measurement of one indicator, lazily: at most one indicator's figures in memory."""
    # A string seed is hashed with SHA-512, so it is stable across runs and processes, and
    # each indicator's values do not depend on how many came before it.
    rng = random.Random(f"{sizes.seed}:{indicator.code}")
    leaves = [_leaf_series(kind, rng, sizes.years) for _ in tree.leaves]
    channel_count = 4 if kind.share else 2
    new = _MeasurementFactory(indicator.pk, import_pk, now)
    for unit_pk, leaf_indices in tree.nodes:
        for y, year in enumerate(sizes.year_range):
            # Sum the leaves' months per channel, then prefix sums for year-to-date periods.
            cumulative = []
            for c in range(channel_count):
                total, running = [0], 0
                for m in range(12):
                    running += sum(leaves[i][y][c][m] for i in leaf_indices)
                    total.append(running)
                cumulative.append(total)
            for period, lo, hi in _periods(year):
                sums = [cum[hi] - cum[lo] for cum in cumulative]
                if kind.share:
                    wn, wd, mn, md = sums
                    figures = (("total", wn + mn, wd + md), ("women", wn, wd), ("men", mn, md))
                    for breakdown, num, den in figures:
                        yield new(
                            unit_pk, period, breakdown, _share(num, den), Decimal(num), Decimal(den)
                        )
                else:
                    women, men = sums
                    counts = (("total", women + men), ("women", women), ("men", men))
                    for breakdown, count in counts:
                        yield new(unit_pk, period, breakdown, Decimal(count), None, None)
