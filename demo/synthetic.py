"""Synthetic multi-year history: clearly named test data for trends, benchmarks and load tests.

Everything generated is named "... (testdata)" and coded `syn_div_NN...`, hangs under the
region, and is attributed to one Import record (source demo, filename "synthetic"), so it can
never be mistaken for real figures and can be removed as a whole. Each synthetic division has
a scorecard of its own per year, with its own success factors under the region's goals.

Values are built bottom-up: each leaf org unit gets monthly figures per sex (numerator and
denominator for shares, counts otherwise) from a per-unit level and yearly trend; areas and
the division are the sums of their units, tertials are year-to-date sums and totals are
women + men. So every figure aggregates consistently up the organisation and over time, as
real imports should. The leaves' figures come from demo.synthetic_values; this module sums
and writes them.
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

from demo.synthetic_values import KINDS, Kind, leaf_series, periods_of, share_percent
from divisions.models import OrgUnit, OrgUnitKind
from divisions.services import OrgUnitSpec, upsert_org_units
from indicators import bulk
from indicators.bulk import in_background
from indicators.catalogue import IndicatorSpec, place_indicators
from indicators.models import (
    Aggregate,
    Assessment,
    CellComment,
    Import,
    ImportSource,
    ImportStatus,
    Indicator,
    Measurement,
    MeasurementRevision,
    Placement,
    Target,
)
from indicators.recompute import recompute_assessments
from scorecard.models import Action, PerspectiveAssessment, Scorecard, StrategicGoal, SuccessFactor

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
        with bulk.built_at_the_end(Measurement, Assessment, Aggregate):
            _load_values(sizes, tree, indicators, record, result, progress)
        record.mark_loaded(created=result.measurements)
    return result


def _load_values(sizes, tree, indicators, record, result, progress) -> None:
    """The measurements by COPY, then one recompute of every synthetic indicator."""
    started = time.monotonic()
    now = timezone.now()
    pending = (
        (indicator.pk, _measurements(indicator, kind, tree[division_code], sizes))
        for division_code, division_indicators in indicators.items()
        for indicator, kind in division_indicators
    )
    if connection.vendor == "postgresql":
        written = _copy_measurements(pending, record.pk, now)
    else:
        written = _create_measurements(pending, record.pk, now)
    for count in written:
        result.measurements += count
        if progress:
            progress("measurements", result.measurements, time.monotonic() - started)
    result.insert_seconds = time.monotonic() - started

    started = time.monotonic()
    # One recompute over every synthetic indicator: the tree, placements and closes are
    # read once, and the roll-ups and assessments are written in large batches.
    result.assessments = recompute_assessments(
        indicator_ids=[i.pk for division in indicators.values() for i, _ in division]
    )
    if progress:
        progress("assessments", result.assessments, time.monotonic() - started)
    result.assess_seconds = time.monotonic() - started


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
    CellComment.objects.filter(attached).delete()
    removed = _raw_delete_measurements(indicator_ids, unit_ids)
    Target.objects.filter(attached).delete()
    PerspectiveAssessment.objects.filter(org_unit_id__in=unit_ids).delete()
    Action.objects.filter(org_unit_id__in=unit_ids).delete()
    # The synthetic divisions' scorecards, then the synthetic indicators wherever placed
    # (placements first: a success factor and an indicator are PROTECTed by them).
    scorecards = Scorecard.objects.filter(org_unit_id__in=unit_ids)
    Placement.objects.filter(
        Q(scorecard__in=scorecards) | Q(indicator_id__in=indicator_ids)
    ).delete()
    SuccessFactor.objects.filter(scorecard__in=scorecards).delete()
    scorecards.delete()
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
) -> dict[str, list[tuple[Indicator, Kind]]]:
    """A scorecard per synthetic division and year, placing the division's indicators.

    Each scorecard has a success factor of its own under each of the region's strategic
    goals; the indicators go round-robin over the perspectives first, then over each
    perspective's goals (plain round-robin over the goals would leave the last perspective
    empty for few indicators). The targets tighten year by year.
    """
    by_perspective: dict[int, list[StrategicGoal]] = {}
    for goal in StrategicGoal.objects.select_related("perspective").order_by(
        "perspective__order", "order", "pk"
    ):
        by_perspective.setdefault(goal.perspective.order, []).append(goal)
    if not by_perspective:
        raise ValueError("no strategic goals: load the demo scorecard first")
    groups = list(by_perspective.values())
    goals = [goal for group in groups for goal in group]
    factor_code = {goal.pk: f"{CODE_PREFIX}f_{n:02d}" for n, goal in enumerate(goals, start=1)}

    result: dict[str, list[tuple[Indicator, Kind]]] = {}
    for division_code, tree in trees.items():
        division = OrgUnit.objects.get(pk=tree.division_pk)
        kinds = {}
        for year_index, year in enumerate(sizes.year_range):
            scorecard = Scorecard.objects.create(
                org_unit=division,
                year=year,
                name=f"{division.name} {year}",
                source=SYNTHETIC_FILENAME,
                loaded_at=timezone.now(),
            )
            factors = SuccessFactor.objects.bulk_create(
                SuccessFactor(
                    scorecard=scorecard,
                    code=factor_code[goal.pk],
                    strategic_goal=goal,
                    name=f"Syntetisk framgångsfaktor {n:02d} (testdata)",
                    order=n,
                )
                for n, goal in enumerate(goals, start=1)
            )
            specs = []
            for i in range(sizes.indicators):
                kind = KINDS[i % len(KINDS)]
                group = groups[i % len(groups)]
                goal = group[(i // len(groups)) % len(group)]
                code = f"{division_code}_i_{i + 1:02d}"
                kinds[code] = kind
                specs.append(
                    IndicatorSpec(
                        code=code,
                        success_factor=factor_code[goal.pk],
                        name=f"Syntetiskt styrmått {i + 1:02d} (testdata)",
                        unit=kind.unit,
                        direction=kind.direction,
                        breakdowns=list(BREAKDOWNS),
                        follow_up=list(FOLLOW_UP),
                        order=i,
                        targets=kind.targets(year_index),
                    )
                )
            place_indicators(
                scorecard=scorecard,
                specs=specs,
                factor_ids={factor.code: factor.pk for factor in factors},
                recompute=False,  # no values yet: _load_values recomputes every indicator
            )
        indicators = Indicator.objects.filter(code__in=kinds).order_by("code")
        result[division_code] = [(indicator, kinds[indicator.code]) for indicator in indicators]
    return result


# --------------------------------------------------------------------------- values


Row = tuple[int, str, str, Decimal | int, int | None, int | None]
# (org unit pk, period, breakdown, value, numerator, denominator)

# The columns a COPY line fills; the rest take their defaults (and the sync marker its trigger).
COPY_COLUMNS = (
    "indicator_id, org_unit_id, period, breakdown, value, numerator, denominator, comment,"
    " source_import_id, updated_at"
)
COPY_ROWS = 50_000  # rows per COPY statement: a few MB of text at a time


def _copy_measurements(
    pending: Iterator[tuple[int, Iterator[Row]]], import_pk: int, now
) -> Iterator[int]:
    """PostgreSQL: the rows by COPY, several times faster than INSERT; yields rows written.

    The values are generated and formatted in a thread while this one waits on the COPY
    before: the server and Python work at the same time (indicators.bulk.in_background).
    """
    tail = f"\t\t{import_pk}\t{now.isoformat()}\n"

    def texts() -> Iterator[tuple[str, int]]:
        for indicator_pk, rows in pending:
            head = f"{indicator_pk}\t"
            for batch in batched(rows, COPY_ROWS):
                text = "".join(
                    f"{head}{unit}\t{period}\t{breakdown}\t{value}\t"
                    f"{'\\N' if num is None else num}\t{'\\N' if den is None else den}{tail}"
                    for unit, period, breakdown, value, num, den in batch
                )
                yield text, len(batch)

    statement = f"COPY {Measurement._meta.db_table} ({COPY_COLUMNS}) FROM STDIN"
    with connection.cursor() as cursor:
        for text, count in in_background(texts(), name="styrkort-synthetic"):
            with cursor.copy(statement) as copy:
                copy.write(text)
            yield count


def _create_measurements(
    pending: Iterator[tuple[int, Iterator[Row]]], import_pk: int, now
) -> Iterator[int]:
    """Other databases (SQLite): bulk_create; yields rows written."""
    for indicator_pk, rows in pending:
        new = _MeasurementFactory(indicator_pk, import_pk, now)
        for batch in batched(rows, BATCH_SIZE):
            Measurement.objects.bulk_create(
                [
                    new(unit, period, breakdown, Decimal(value), _decimal(num), _decimal(den))
                    for unit, period, breakdown, value, num, den in batch
                ],
                batch_size=BATCH_SIZE,
            )
            yield len(batch)


def _decimal(number: int | None) -> Decimal | None:
    return None if number is None else Decimal(number)


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
    indicator: Indicator, kind: Kind, tree: _DivisionTree, sizes: SyntheticSizes
) -> Iterator[Row]:
    """Every measurement of one indicator, lazily: at most one indicator's figures in memory."""
    # A string seed is hashed with SHA-512, so it is stable across runs and processes, and
    # each indicator's values do not depend on how many came before it.
    rng = random.Random(f"{sizes.seed}:{indicator.code}")
    leaves = [leaf_series(kind, rng, sizes.years) for _ in tree.leaves]
    channel_count = 4 if kind.share else 2
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
            for period, lo, hi in periods_of(year):
                sums = [cum[hi] - cum[lo] for cum in cumulative]
                if kind.share:
                    wn, wd, mn, md = sums
                    yield (
                        unit_pk,
                        period,
                        "total",
                        share_percent(wn + mn, wd + md),
                        wn + mn,
                        wd + md,
                    )
                    yield unit_pk, period, "women", share_percent(wn, wd), wn, wd
                    yield unit_pk, period, "men", share_percent(mn, md), mn, md
                else:
                    women, men = sums
                    yield unit_pk, period, "total", women + men, None, None
                    yield unit_pk, period, "women", women, None, None
                    yield unit_pk, period, "men", men, None, None
