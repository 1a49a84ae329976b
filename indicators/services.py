"""Writes for indicators: definitions, measurement imports and assessment recompute."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from divisions.models import OrgUnit
from scorecard.models import SuccessFactor

from . import rules
from .exchange import FileRejected, MeasurementRow, RowError, read_measurements
from .models import (
    Assessment,
    Import,
    ImportSource,
    ImportStatus,
    Indicator,
    Measurement,
    MeasurementRevision,
    Target,
)
from .periods import Period, PeriodKind

# How many row errors an import keeps; the count of rejected rows is always exact.
MAX_REPORTED_ERRORS = 1000
CHUNK = 2000


# --------------------------------------------------------------------------- definitions


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


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    record: Import
    created: int
    changed: int
    unchanged: int


class ImportRejected(Exception):
    """The file was refused as a whole; nothing was written. `errors` say where and why."""

    def __init__(self, record: Import, errors: list[RowError], rejected_rows: int) -> None:
        super().__init__(f"{rejected_rows} row(s) rejected")
        self.record = record
        self.errors = errors
        self.rejected_rows = rejected_rows


Key = tuple[int, int, str, str]  # indicator id, org unit id, period, breakdown


class _Resolver:
    """Turns parsed rows into database keys, or into row errors naming what is unknown."""

    def __init__(self) -> None:
        self.indicators = {
            code: (pk, frozenset(breakdowns))
            for code, pk, breakdowns in Indicator.objects.values_list("code", "pk", "breakdowns")
        }
        self.units = dict(OrgUnit.objects.values_list("code", "pk"))

    def resolve(self, item: MeasurementRow) -> Key | list[RowError]:
        indicator = self.indicators.get(item.indicator)
        unit_id = self.units.get(item.org_unit)
        errors = []
        if indicator is None:
            errors.append(RowError(item.row, "indicator", f"unknown indicator '{item.indicator}'"))
        if unit_id is None:
            errors.append(RowError(item.row, "org_unit", f"unknown org unit '{item.org_unit}'"))
        if errors:
            return errors
        indicator_id, breakdowns = indicator
        if item.breakdown not in breakdowns:
            return [
                RowError(
                    item.row,
                    "breakdown",
                    f"'{item.breakdown}' is not a breakdown of {item.indicator} "
                    f"(declared: {', '.join(sorted(breakdowns))})",
                )
            ]
        return (indicator_id, unit_id, item.period, item.breakdown)


@dataclass
class _Validation:
    errors: list[RowError] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)
    rows_total: int = 0


def _validate(fileobj: BinaryIO, filename: str, resolver: _Resolver) -> _Validation:
    """First pass: check every row and list every error; keeps only keys, not rows.

    Rows are read again to be written, so memory stays flat however large the file is.
    """
    result = _Validation()
    first_row: dict[Key, int] = {}
    last_row = 0

    def reject(error: RowError) -> None:
        result.bad_rows.add(error.row)
        if len(result.errors) < MAX_REPORTED_ERRORS:
            result.errors.append(error)

    for item in read_measurements(fileobj, filename):
        if item.row != last_row:
            result.rows_total += 1
            last_row = item.row
        if isinstance(item, RowError):
            reject(item)
            continue
        key = resolver.resolve(item)
        if isinstance(key, list):
            for error in key:
                reject(error)
            continue
        if key in first_row:
            reject(
                RowError(
                    item.row,
                    "",
                    f"duplicates row {first_row[key]} ({item.indicator}, "
                    f"{item.org_unit}, {item.period}, {item.breakdown})",
                )
            )
            continue
        first_row[key] = item.row
    return result


def file_digest(fileobj: BinaryIO) -> tuple[str, int]:
    fileobj.seek(0)
    digest = hashlib.sha256()
    size = 0
    for block in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(block)
        size += len(block)
    fileobj.seek(0)
    return digest.hexdigest(), size


def _valid_rows(
    fileobj: BinaryIO, filename: str, resolver: _Resolver
) -> Iterator[tuple[Key, MeasurementRow]]:
    """Second pass over a file that validated: every row with its key."""
    fileobj.seek(0)
    for item in read_measurements(fileobj, filename):
        key = resolver.resolve(item)  # validated: always a key now
        yield key, item


def import_measurements(
    *,
    fileobj: BinaryIO,
    filename: str,
    user=None,
    source: str = ImportSource.COMMAND,
) -> ImportResult:
    """Validate a whole measurement file, then upsert it in one transaction.

    Any bad row rejects the file: ImportRejected lists each as 'row N, column C: reason' and
    nothing is written but the failed Import record. Re-importing the same content changes
    nothing (0 created, 0 changed).
    """
    sha256, size = file_digest(fileobj)
    record = Import.objects.create(
        filename=filename,
        sha256=sha256,
        size=size,
        source=source,
        user=user,
        status=ImportStatus.RUNNING,
    )
    limit = settings.STYRKORT_IMPORT_MAX_BYTES
    try:
        if size > limit:
            raise FileRejected(
                [RowError(0, "", f"the file is {size:,} bytes; the limit is {limit:,} bytes")]
            )
        resolver = _Resolver()
        validation = _validate(fileobj, filename, resolver)
    except FileRejected as exc:
        _finish(record, ImportStatus.FAILED, errors=exc.errors, rejected=0)
        raise ImportRejected(record, exc.errors, 0) from None
    if validation.errors:
        _finish(
            record,
            ImportStatus.FAILED,
            errors=validation.errors,
            rejected=len(validation.bad_rows),
            rows_total=validation.rows_total,
        )
        raise ImportRejected(record, validation.errors, len(validation.bad_rows))
    try:
        with transaction.atomic():
            created, changed, unchanged = _apply(
                record, _valid_rows(fileobj, filename, resolver), user=user
            )
    except Exception as exc:
        _finish(
            record,
            ImportStatus.FAILED,
            errors=[RowError(0, "", f"import failed: {exc}")],
            rejected=0,
        )
        raise
    _finish(
        record,
        ImportStatus.SUCCEEDED,
        created=created,
        changed=changed,
        unchanged=unchanged,
        rows_total=validation.rows_total,
    )
    return ImportResult(record=record, created=created, changed=changed, unchanged=unchanged)


def _finish(record: Import, status: str, *, errors: list[RowError] = (), **counts) -> None:
    record.status = status
    record.errors = [{"row": e.row, "column": e.column, "message": e.message} for e in errors]
    record.finished_at = timezone.now()
    for name, value in counts.items():
        setattr(record, name, value)
    record.save()


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _apply(
    record: Import, rows: Iterable[tuple[Key, MeasurementRow]], *, user
) -> tuple[int, int, int]:
    now = timezone.now()
    created = changed = unchanged = 0
    touched: set[tuple[int, int]] = set()
    for chunk in _chunks(rows, CHUNK):
        keys = [key for key, _ in chunk]
        existing = {
            (m.indicator_id, m.org_unit_id, m.period, m.breakdown): m
            for m in Measurement.objects.filter(
                indicator_id__in={k[0] for k in keys},
                org_unit_id__in={k[1] for k in keys},
                period__in={k[2] for k in keys},
                breakdown__in={k[3] for k in keys},
            )
        }
        new, updated, revisions = [], [], []
        for key, row in chunk:
            row_no = row.row
            current = existing.get(key)
            fields = {
                "value": row.value,
                "numerator": row.numerator,
                "denominator": row.denominator,
                "comment": row.comment,
            }
            if current is None:
                new.append(
                    Measurement(
                        indicator_id=key[0],
                        org_unit_id=key[1],
                        period=key[2],
                        breakdown=key[3],
                        source_import=record,
                        source_row=row_no,
                        entered_by=user,
                        updated_at=now,
                        **fields,
                    )
                )
                touched.add((key[0], key[1]))
                continue
            if not any(_differs(getattr(current, k), v) for k, v in fields.items()):
                unchanged += 1
                continue
            revisions.append(
                MeasurementRevision(
                    measurement=current,
                    value=current.value,
                    numerator=current.numerator,
                    denominator=current.denominator,
                    comment=current.comment,
                    source_import_id=current.source_import_id,
                    source_row=current.source_row,
                    entered_by_id=current.entered_by_id,
                    valid_from=current.updated_at,
                    replaced_at=now,
                    replaced_by_import=record,
                )
            )
            for k, v in fields.items():
                setattr(current, k, v)
            current.source_import, current.source_row = record, row_no
            current.entered_by, current.updated_at = user, now
            updated.append(current)
            touched.add((key[0], key[1]))
        Measurement.objects.bulk_create(new, batch_size=CHUNK)
        MeasurementRevision.objects.bulk_create(revisions, batch_size=CHUNK)
        Measurement.objects.bulk_update(
            updated,
            [
                "value",
                "numerator",
                "denominator",
                "comment",
                "source_import",
                "source_row",
                "entered_by",
                "updated_at",
            ],
            batch_size=500,
        )
        created += len(new)
        changed += len(updated)
    if touched:
        recompute_assessments(pairs=touched)
    return created, changed, unchanged


# --------------------------------------------------------------------------- assessments


def recompute_assessments(
    *, pairs: Iterable[tuple[int, int]] | None = None, indicator_ids: Iterable[int] | None = None
) -> int:
    """Recompute stored assessments for (indicator, org unit) pairs, or whole indicators.

    Every period of a pair is recomputed, since a changed value is also another period's
    reference (one year later, or a named base year). Overrides and analysis are kept.
    """
    by_indicator: dict[int, set[int] | None] = defaultdict(set)
    for indicator_id, unit_id in pairs or ():
        by_indicator[indicator_id].add(unit_id)
    for indicator_id in indicator_ids or ():
        by_indicator[indicator_id] = None  # all org units
    units = {u.pk: u for u in OrgUnit.objects.only("pk", "path", "code")}
    unit_pk_by_code = {u.code: pk for pk, u in units.items()}
    count = 0
    indicators = Indicator.objects.filter(pk__in=by_indicator).prefetch_related("targets")
    for indicator in indicators:
        unit_ids = by_indicator[indicator.pk]
        measurements = Measurement.objects.filter(indicator=indicator)
        if unit_ids is not None:
            measurements = measurements.filter(org_unit_id__in=unit_ids)
        values: dict[int, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
        for unit_id, period, breakdown, value in measurements.values_list(
            "org_unit_id", "period", "breakdown", "value"
        ).iterator(chunk_size=10000):
            values[unit_id][period][breakdown] = value
        targets = list(indicator.targets.all())
        rows = []
        now = timezone.now()
        for unit_id, by_period in values.items():
            ancestry = [unit_pk_by_code[c] for c in units[unit_id].path.strip("/").split("/")][::-1]
            for period_code in by_period:
                result = assess(indicator, targets, ancestry, Period.parse(period_code), by_period)
                rows.append(
                    Assessment(
                        indicator=indicator,
                        org_unit_id=unit_id,
                        period=period_code,
                        computed_status=result.status,
                        trend=result.trend,
                        details=result.details,
                        computed_at=now,
                    )
                )
        for chunk in _chunks(rows, CHUNK):
            Assessment.objects.bulk_create(
                chunk,
                update_conflicts=True,
                unique_fields=["indicator", "org_unit", "period"],
                update_fields=["computed_status", "trend", "details", "computed_at"],
            )
        count += len(rows)
    return count


@dataclass(frozen=True)
class AssessmentResult:
    status: str
    trend: str
    details: dict[str, dict[str, str | None]]


def resolve_target(
    targets: list[Target], *, ancestry: list[int], year: int, breakdown: str, has_total: bool
) -> Target | None:
    """The most specific target: nearest org unit, then exact breakdown, then exact year.

    A target without breakdown covers the total and the gender split; other breakdowns of an
    indicator that has a total (counts written beside a share) carry no target of their own.
    """
    generic_applies = breakdown in ("total", "women", "men") or not has_total
    best, best_rank = None, None
    for target in targets:
        if target.year not in (year, None):
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
        rank = (distance, target.breakdown == "", target.year is None)
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
) -> AssessmentResult:
    """Status and trend of one indicator at one org unit and period, from plain values."""
    current = by_period.get(period.code, {})
    has_total = "total" in indicator.breakdowns
    direction = rules.Direction(indicator.direction)
    statuses: dict[str, rules.Status] = {}
    trends: dict[str, rules.Trend] = {}
    details: dict[str, dict[str, str | None]] = {}
    specific = False
    for breakdown in indicator.breakdowns:
        value = current.get(breakdown)
        target = resolve_target(
            targets, ancestry=ancestry, year=period.year, breakdown=breakdown, has_total=has_total
        )
        previous = by_period.get(period.year_before().code, {}).get(breakdown)
        threshold = None
        if target is not None:
            spec = _spec(target)
            reference = _reference(by_period, period, breakdown, spec)
            threshold = rules.effective_threshold(
                spec, reference=reference, months_elapsed=period.months_elapsed
            )
            status = rules.evaluate(
                spec, value, reference=reference, months_elapsed=period.months_elapsed
            )
            statuses[breakdown] = status
            specific = specific or target.breakdown != ""
        trend = rules.trend(value, previous, direction, band=indicator.trend_band, target=threshold)
        if value is not None or target is not None:
            trends[breakdown] = trend
        details[breakdown] = {
            "status": statuses[breakdown].value if breakdown in statuses else None,
            "trend": trend.value,
            "threshold": _plain(threshold),
            "target": (target.text or None) if target else None,
            "target_value": _plain(target.value) if target and target.breakdown else None,
        }
    if not statuses:
        status = rules.Status.NOT_ASSESSED
    else:
        status = rules.indicator_status(statuses, breakdown_specific=specific)
    if has_total and "total" in trends:
        overall_trend = trends["total"]
    else:
        overall_trend = rules.combine_trends(trends.values())
    return AssessmentResult(status=status.value, trend=overall_trend.value, details=details)


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
    if number is None:
        return None
    text = format(Decimal(number).normalize(), "f")
    return text
