"""Writes of single values by a person or a script: the API, and the browser forms.

Each write checks divisions.access first (PermissionDenied, nothing changed), keeps the
replaced value as a MeasurementRevision with who and when, and recomputes the assessments
that depend on it, as an import does.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Source
from audit.services import Actor, measurement_values, record_change
from divisions.access import ensure_can_write
from divisions.models import OrgUnit
from domain.measurements import number_problems
from domain.periods import InvalidPeriod, Period
from scorecard.closing import ensure_open

from . import bulk
from .messages import say, translated
from .models import Assessment, Indicator, Measurement, MeasurementRevision
from .recompute import assess_one, recompute_assessments
from .scorecards import PlacementIndex

VALUE_FIELDS = ("value", "numerator", "denominator", "comment")
# What the audit trail records of an assessment change (the computed status is the
# recompute's, not a person's).
_ASSESSMENT_FIELDS = ("override_status", "override_comment", "analysis")


def _check_values(
    indicator: Indicator,
    breakdown: str,
    value: Decimal | None,
    numerator: Decimal | None,
    denominator: Decimal | None,
) -> None:
    errors = {}
    if breakdown not in indicator.breakdowns:
        errors["breakdown"] = translated(
            "not_a_breakdown",
            {
                "breakdown": breakdown,
                "indicator": indicator.code,
                "declared": ", ".join(indicator.breakdowns),
            },
            "",
        )
    problems = number_problems(value=value, numerator=numerator, denominator=denominator)
    errors.update({name: say(message) for name, message in problems.items()})
    if errors:
        raise ValidationError(errors)


def writable_period(user, org_unit: OrgUnit, period: str) -> str:
    """The period's code, once the user may write the unit and the period is open for it
    (PermissionDenied, ValidationError or PeriodClosed otherwise)."""
    ensure_can_write(user, org_unit)
    try:
        code = Period.parse(period).code
    except InvalidPeriod as exc:
        raise ValidationError({"period": say(exc.args[0])}) from None
    ensure_open(org_unit, code)
    return code


def check_placed(indicator: Indicator, org_unit: OrgUnit, period: str) -> None:
    """The same rule as an import's: a value is judged or added up on some scorecard."""
    ancestry = _ancestry(org_unit)
    index = PlacementIndex(indicator_ids=[indicator.pk])
    if not index.placed_within(indicator.pk, ancestry, Period.parse(period).year):
        raise ValidationError(
            {
                "indicator": translated(
                    "not_placed",
                    {"indicator": indicator.code, "code": org_unit.code, "year": period[:4]},
                    "",
                )
            }
        )


class ValuesBusy(Exception):
    """An import holds these values (it writes them in one transaction): try again soon."""

    def __init__(self) -> None:
        super().__init__(_("En import uppdaterar just nu de här värdena. Försök igen om en stund."))


LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout expired


def _without_waiting_for_imports(service):
    """A write that would wait for a row an import holds gives up after
    STYRKORT_EDIT_LOCK_TIMEOUT_MS with ValuesBusy, rather than hold the web worker for the
    whole import (minutes, for a large file)."""

    @functools.wraps(service)
    def write(*args, **kwargs):
        with transaction.atomic():
            if bulk.is_postgresql():
                timeout = f"{settings.STYRKORT_EDIT_LOCK_TIMEOUT_MS}ms"
                with connection.cursor() as cursor:  # for this transaction only
                    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [timeout])
            try:
                return service(*args, **kwargs)
            except OperationalError as exc:
                if getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                    raise ValuesBusy from exc
                raise

    return write


@_without_waiting_for_imports
def set_measurement(
    *,
    user,
    indicator: Indicator,
    org_unit: OrgUnit,
    period: str,
    breakdown: str = "total",
    value: Decimal,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
    comment: str = "",
    source: str = Source.API,
    remote_addr: str | None = None,
) -> tuple[Measurement, bool]:
    """Create or replace one value; returns (measurement, created).

    Setting the value it already has changes nothing (no revision, no recompute).
    """
    period = writable_period(user, org_unit, period)
    _check_values(indicator, breakdown, value, numerator, denominator)
    check_placed(indicator, org_unit, period)
    key = {"indicator": indicator, "org_unit": org_unit, "period": period, "breakdown": breakdown}
    values = {
        "value": value,
        "numerator": numerator,
        "denominator": denominator,
        "comment": comment,
    }
    current = Measurement.objects.select_for_update().filter(**key).first()
    if current is None:
        try:
            with transaction.atomic():
                measurement = Measurement.objects.create(
                    **key, **values, entered_by=user, updated_at=timezone.now()
                )
        except IntegrityError:
            # Another request created the same key a moment ago: replace that one instead.
            current = Measurement.objects.select_for_update().get(**key)
        else:
            record_change(
                actor=Actor(user, source, remote_addr),
                obj=measurement,
                before=None,
                after=measurement_values(measurement),
            )
            recompute_assessments(
                pairs=[(indicator.pk, org_unit.pk)], periods=[(indicator.pk, measurement.period)]
            )
            return measurement, True
    actor = Actor(user, source, remote_addr)
    return _replace(current, values, user=user, actor=actor), False


@_without_waiting_for_imports
def update_measurement(
    *,
    user,
    measurement: Measurement,
    source: str = Source.API,
    remote_addr: str | None = None,
    **changes,
) -> Measurement:
    """Change value, numerator, denominator or comment of an existing measurement."""
    unknown = set(changes) - set(VALUE_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    ensure_can_write(user, measurement.org_unit)
    current = Measurement.objects.select_for_update().get(pk=measurement.pk)
    ensure_open(current.org_unit, current.period)
    values = {name: changes.get(name, getattr(current, name)) for name in VALUE_FIELDS}
    _check_values(
        current.indicator,
        current.breakdown,
        values["value"],
        values["numerator"],
        values["denominator"],
    )
    return _replace(current, values, user=user, actor=Actor(user, source, remote_addr))


def _replace(current: Measurement, values: dict, *, user, actor: Actor) -> Measurement:
    if all(_same(getattr(current, name), new) for name, new in values.items()):
        return current
    before = measurement_values(current)
    now = timezone.now()
    MeasurementRevision.objects.create(
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
    )
    for name, new in values.items():
        setattr(current, name, new)
    # The value now comes from this user, not from the file row it was imported from.
    current.source_import, current.source_row = None, None
    current.entered_by, current.updated_at = user, now
    current.save()
    record_change(actor=actor, obj=current, before=before, after=measurement_values(current))
    recompute_assessments(
        pairs=[(current.indicator_id, current.org_unit_id)],
        periods=[(current.indicator_id, current.period)],
    )
    return current


def _same(stored: object, new: object) -> bool:
    if stored is None or new is None:
        return stored is new
    if isinstance(stored, Decimal) or isinstance(new, Decimal):
        return Decimal(stored) == Decimal(new)
    return stored == new


def _ancestry(org_unit: OrgUnit) -> list[int]:
    """The unit's id and those of the units above it, nearest first."""
    return list(
        OrgUnit.objects.filter(code__in=org_unit.lineage_codes)
        .order_by("-path")
        .values_list("pk", flat=True)
    )


def _assessment_for_writing(
    *, indicator: Indicator, org_unit: OrgUnit, period: str, actor: Actor
) -> Assessment:
    """The stored assessment, locked; created (and audited) when there is none yet, so that
    an analysis or a manual status can be written before a value comes in ("therefore the
    value is missing"). Its computed status is what the values there are give."""
    key = {"indicator": indicator, "org_unit": org_unit, "period": period}
    current = Assessment.objects.select_for_update().filter(**key).first()
    if current is not None:
        return current
    found = assess_one(indicator, org_unit.pk, _ancestry(org_unit), Period.parse(period))
    if found is None:
        raise ValidationError(
            {
                "indicator": translated(
                    "not_placed",
                    {"indicator": indicator.code, "code": org_unit.code, "year": period[:4]},
                    "",
                )
            }
        )
    placement_id, result = found
    try:
        with transaction.atomic():
            created = Assessment.objects.create(
                **key,
                placement_id=placement_id,
                computed_status=result.status,
                trend=result.trend,
                details=result.details,
                computed_at=timezone.now(),
            )
    except IntegrityError:  # another request created it a moment ago
        return Assessment.objects.select_for_update().get(**key)
    record_change(
        actor=actor,
        obj=created,
        before=None,
        after={"computed_status": created.computed_status, "trend": created.trend},
    )
    return created


@_without_waiting_for_imports
def annotate_indicator(
    *,
    user,
    indicator: Indicator,
    org_unit: OrgUnit,
    period: str,
    override_status: str | None = None,
    override_comment: str | None = None,
    analysis: str | None = None,
    source: str = Source.API,
) -> Assessment:
    """The manual status or the analysis of an indicator at a unit and period, whether or
    not a value came in (as update_assessment; the assessment is created when missing)."""
    period = writable_period(user, org_unit, period)
    assessment = _assessment_for_writing(
        indicator=indicator, org_unit=org_unit, period=period, actor=Actor(user, source)
    )
    return update_assessment(
        user=user,
        assessment=assessment,
        override_status=override_status,
        override_comment=override_comment,
        analysis=analysis,
        source=source,
    )


@dataclass(frozen=True)
class ValueInput:
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    comment: str = ""


@_without_waiting_for_imports
def report_indicator(
    *,
    user,
    indicator: Indicator,
    org_unit: OrgUnit,
    period: str,
    values: Mapping[str, ValueInput] | None = None,
    override_status: str | None = None,
    override_comment: str | None = None,
    analysis: str | None = None,
    source: str = Source.API,
) -> Assessment | None:
    """A manager's report of one indicator in one transaction: values per breakdown, then
    the manual status and the analysis (None: left as they are). All or nothing."""
    for breakdown, given in (values or {}).items():
        set_measurement(
            user=user,
            indicator=indicator,
            org_unit=org_unit,
            period=period,
            breakdown=breakdown,
            value=given.value,
            numerator=given.numerator,
            denominator=given.denominator,
            comment=given.comment,
            source=source,
        )
    if override_status is None and analysis is None:
        return None
    return annotate_indicator(
        user=user,
        indicator=indicator,
        org_unit=org_unit,
        period=period,
        override_status=override_status,
        override_comment=override_comment,
        analysis=analysis,
        source=source,
    )


@_without_waiting_for_imports
def update_assessment(
    *,
    user,
    assessment: Assessment,
    override_status: str | None = None,
    override_comment: str | None = None,
    analysis: str | None = None,
    source: str = Source.API,
) -> Assessment:
    """Set or clear the manual status (with its reason), or the analysis text.

    None leaves a field as it is; override_status "" clears the override and its comment.
    The computed status stays beside an override.
    """
    ensure_can_write(user, assessment.org_unit)
    current = Assessment.objects.select_for_update().get(pk=assessment.pk)
    ensure_open(current.org_unit, current.period)
    before = {name: getattr(current, name) for name in _ASSESSMENT_FIELDS}
    if override_status is not None:
        current.override_status = override_status
        if override_status == "":
            current.override_comment = ""
            current.override_by = None
        else:
            current.override_by = user
    if override_comment is not None and current.override_status:
        current.override_comment = override_comment.strip()
    if current.override_status and not current.override_comment:
        raise ValidationError({"override_comment": _("En manuell bedömning måste motiveras.")})
    if analysis is not None:
        current.analysis = analysis
    current.save(update_fields=["override_status", "override_comment", "override_by", "analysis"])
    record_change(
        actor=Actor(user, source),
        obj=current,
        before=before,
        after={name: getattr(current, name) for name in _ASSESSMENT_FIELDS},
    )
    # Keep the annotations the caller's instance carries (perspective code and the like).
    for name in ("override_status", "override_comment", "override_by", "analysis"):
        setattr(assessment, name, getattr(current, name))
    return assessment
