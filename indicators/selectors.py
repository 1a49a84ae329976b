"""Reads for indicators: what pages, the report and the API show."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField
from django.db.models.expressions import BaseExpression, ExpressionWrapper, RawSQL

from divisions.models import OrgUnit
from domain.periods import Period

from .models import Aggregate, Assessment, CellComment, CommentState, Indicator, Measurement


def measurements_at(org_unit: OrgUnit, period: str) -> dict[int, dict[str, Measurement]]:
    """indicator id -> breakdown -> measurement, for one org unit and period."""
    found: dict[int, dict[str, Measurement]] = defaultdict(dict)
    for m in Measurement.objects.filter(org_unit=org_unit, period=period).select_related(
        "source_import", "entered_by"
    ):
        found[m.indicator_id][m.breakdown] = m
    return found


def aggregates_at(org_unit: OrgUnit, period: str) -> dict[int, dict[str, Aggregate]]:
    """indicator id -> breakdown -> what the unit's children add up to, for one period."""
    found: dict[int, dict[str, Aggregate]] = defaultdict(dict)
    for a in Aggregate.objects.filter(org_unit=org_unit, period=period):
        found[a.indicator_id][a.breakdown] = a
    return found


def assessments_at(org_unit: OrgUnit, period: str) -> dict[int, Assessment]:
    return {a.indicator_id: a for a in Assessment.objects.filter(org_unit=org_unit, period=period)}


def periods_with_data(org_unit: OrgUnit) -> list[str]:
    """Periods with at least one value for the org unit, its own or its units' sum, newest
    first."""
    own = Measurement.objects.filter(org_unit=org_unit).values_list("period", flat=True)
    summed = Aggregate.objects.filter(org_unit=org_unit).values_list("period", flat=True)
    return sorted(set(own.union(summed)), key=Period.sort_key, reverse=True)


@dataclass(frozen=True)
class MeasurementVersion:
    """One value a measurement had, and when, from where and by whom."""

    value: Decimal
    numerator: Decimal | None
    denominator: Decimal | None
    comment: str
    source_import_id: int | None
    source_row: int | None
    entered_by: str | None
    valid_from: datetime
    valid_to: datetime | None  # None: the current value


def measurement_history(measurement: Measurement) -> list[MeasurementVersion]:
    """The current value first, then each earlier one, newest first."""
    revisions = measurement.revisions.select_related("entered_by").order_by("-replaced_at", "-pk")
    versions = [
        MeasurementVersion(
            value=measurement.value,
            numerator=measurement.numerator,
            denominator=measurement.denominator,
            comment=measurement.comment,
            source_import_id=measurement.source_import_id,
            source_row=measurement.source_row,
            entered_by=measurement.entered_by.get_username() if measurement.entered_by else None,
            valid_from=measurement.updated_at,
            valid_to=None,
        )
    ]
    versions.extend(
        MeasurementVersion(
            value=r.value,
            numerator=r.numerator,
            denominator=r.denominator,
            comment=r.comment,
            source_import_id=r.source_import_id,
            source_row=r.source_row,
            entered_by=r.entered_by.get_username() if r.entered_by else None,
            valid_from=r.valid_from,
            valid_to=r.replaced_at,
        )
        for r in revisions
    )
    return versions


def sync_watermark() -> int:
    """The watermark of an incremental sync that reads from now on (docs/domain.md,
    "Synchronisation"): every measurement this read cannot see yet, because its transaction
    commits later, has a change marker at or above it.

    PostgreSQL: the oldest transaction still running (pg_snapshot_xmin). Every transaction
    below it has ended, so a row marked with a lower id is committed and visible now; a
    row written by one still running, or by one that starts later, is marked at or above
    it. Read before the rows (a later snapshot only raises it), so it errs towards sending
    a row twice, never towards leaving one out. SQLite has one writer at a time: the next
    number its triggers will hand out.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_SNAPSHOT_WATERMARK)
        else:
            cursor.execute("SELECT COALESCE(MAX(change_marker), 0) + 1 FROM indicators_measurement")
        return int(cursor.fetchone()[0])


def sync_watermark_column() -> AsReturned | None:
    """The watermark as a column of the statement that reads the rows (PostgreSQL): from the
    snapshot the rows themselves are read in, so exactly right, and no round trip of its
    own. A subquery, so that it is computed once and not for every row. None on SQLite,
    where sync_watermark is read before the rows."""
    if connection.vendor != "postgresql":
        return None
    return AsReturned(RawSQL(_SNAPSHOT_WATERMARK, []), output_field=BigIntegerField())


class AsReturned(ExpressionWrapper):
    """An integer expression taken as the database returns it (an int, on PostgreSQL and
    SQLite alike). Django casts an integer expression's value with int() row by row: a
    tenth of the time a page of 100 rows took to fetch."""

    convert_value = staticmethod(BaseExpression._convert_value_noop)


# The oldest transaction running when the statement's snapshot was taken.
_SNAPSHOT_WATERMARK = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


def published_comments_at(org_unit: OrgUnit, period: str) -> dict[tuple[int, str], CellComment]:
    """(indicator id, breakdown) -> the cell's published comment, for one unit and period."""
    return {
        (c.indicator_id, c.breakdown): c
        for c in CellComment.objects.filter(
            org_unit=org_unit, period=period, state=CommentState.PUBLISHED
        ).select_related("author")
    }


@dataclass(frozen=True)
class CommentDraft:
    """What the comment form of one cell starts from."""

    comment: CellComment | None  # the cell's own comment, draft or published
    text: str  # the form's text: the cell's own, else the previous period's as a draft
    from_period: str = ""  # the period the draft text was taken from ("" for the cell's own)

    @property
    def prefilled(self) -> bool:
        return bool(self.from_period)


def comment_for_editing(
    indicator: Indicator, org_unit: OrgUnit, period: str, breakdown: str
) -> CommentDraft:
    """The cell's comment; without one, the published comment of the same cell in the
    period of the same kind just before (Period.previous) as a draft: nothing is stored
    until the manager saves it, so readers and exports never see it before then."""
    key = {"indicator": indicator, "org_unit": org_unit, "breakdown": breakdown}
    own = CellComment.objects.filter(**key, period=period).first()
    if own is not None:
        return CommentDraft(own, own.text)
    earlier = Period.parse(period).previous().code
    previous = CellComment.objects.filter(
        **key, period=earlier, state=CommentState.PUBLISHED
    ).first()
    if previous is None:
        return CommentDraft(None, "")
    return CommentDraft(None, previous.text, earlier)


def cell_comments_of(
    indicator: Indicator, org_unit: OrgUnit, period: str
) -> dict[str, CellComment]:
    """breakdown -> the cell's comment (draft or published): the writer's own view."""
    return {
        c.breakdown: c
        for c in CellComment.objects.filter(indicator=indicator, org_unit=org_unit, period=period)
    }
