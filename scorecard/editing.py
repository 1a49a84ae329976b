"""Writes of perspective assessments and actions by a person or a script.

Each write checks divisions.access for the org unit it touches (PermissionDenied, nothing
changed); moving an action needs the right to write in both units. An action of a period's
plan (Action.period) changes only while that period is open for its unit: a closed period
freezes its action plan (PeriodClosed).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.models import Source
from audit.services import Actor, record_change, record_deletion, snapshot
from divisions.access import ensure_can_write
from divisions.models import OrgUnit
from domain.periods import InvalidPeriod, Period

from .closing import ensure_open
from .models import Action, Perspective, PerspectiveAssessment, SuccessFactor

ACTION_FIELDS = (
    "org_unit",
    "perspective",
    "success_factor",
    "number",
    "goal",
    "description",
    "status",
    "comment",
    "owner",
    "due_date",
    "period",
    "indicators",
)


def _period_code(period: str) -> str:
    if not period:
        return ""
    try:
        return Period.parse(period).code
    except InvalidPeriod as exc:
        raise ValidationError({"period": str(exc)}) from None


def _action_state(action: Action) -> dict[str, Any]:
    """The audit trail's view of an action: its fields and the indicators it addresses."""
    codes = sorted(action.indicators.values_list("code", flat=True)) if action.pk else []
    return {**snapshot(action), "indicators": codes}


@transaction.atomic
def set_perspective_assessment(
    *,
    user,
    org_unit: OrgUnit,
    perspective: Perspective,
    period: str,
    status: str,
    text: str = "",
    justification: str = "",
    source: str = Source.API,
) -> tuple[PerspectiveAssessment, bool]:
    """Create or replace the overall assessment of a perspective; returns (it, created)."""
    ensure_can_write(user, org_unit)
    try:
        period = Period.parse(period).code
    except InvalidPeriod as exc:
        raise ValidationError({"period": str(exc)}) from None
    ensure_open(org_unit, period)
    key = {"org_unit": org_unit, "perspective": perspective, "period": period}
    current = PerspectiveAssessment.objects.select_for_update().filter(**key).first()
    before = snapshot(current) if current is not None else None
    assessment, created = PerspectiveAssessment.objects.update_or_create(
        **key,
        defaults={
            "status": status,
            "text": text,
            "justification": justification,
            "updated_by": user,
        },
    )
    record_change(actor=Actor(user, source), obj=assessment, before=before)
    return assessment, created


@transaction.atomic
def update_perspective_assessment(
    *,
    user,
    assessment: PerspectiveAssessment,
    status: str | None = None,
    text: str | None = None,
    justification: str | None = None,
    source: str = Source.API,
) -> PerspectiveAssessment:
    ensure_can_write(user, assessment.org_unit)
    ensure_open(assessment.org_unit, assessment.period)
    stored = PerspectiveAssessment.objects.select_for_update().get(pk=assessment.pk)
    before = snapshot(stored)
    if status is not None:
        assessment.status = status
    if text is not None:
        assessment.text = text
    if justification is not None:
        assessment.justification = justification
    assessment.updated_by = user
    assessment.save(update_fields=["status", "text", "justification", "updated_by", "updated_at"])
    record_change(actor=Actor(user, source), obj=assessment, before=before)
    return assessment


def _check_action(perspective: Perspective, success_factor: SuccessFactor | None) -> None:
    if success_factor is not None and success_factor.strategic_goal.perspective_id != (
        perspective.pk
    ):
        raise ValidationError(
            {"success_factor": f"{success_factor.code} is not under perspective {perspective.code}"}
        )


@transaction.atomic
def create_action(
    *,
    user,
    org_unit: OrgUnit,
    perspective: Perspective,
    goal: str,
    description: str,
    success_factor: SuccessFactor | None = None,
    number: str = "",
    status: str = "",
    comment: str = "",
    owner: str = "",
    due_date: date | None = None,
    period: str = "",
    indicators: Iterable[Any] = (),
    source: str = Source.API,
) -> Action:
    """A new action; with `period`, in that period's plan (which must be open)."""
    ensure_can_write(user, org_unit)
    _check_action(perspective, success_factor)
    period = _period_code(period)
    if period:
        ensure_open(org_unit, period)
    action = Action.objects.create(
        org_unit=org_unit,
        perspective=perspective,
        success_factor=success_factor,
        number=number,
        goal=goal,
        description=description,
        status=status,
        comment=comment,
        owner=owner,
        due_date=due_date,
        period=period,
    )
    action.indicators.set(list(indicators))
    record_change(actor=Actor(user, source), obj=action, before=None, after=_action_state(action))
    return action


@transaction.atomic
def update_action(*, user, action: Action, source: str = Source.API, **changes) -> Action:
    """Change an action; refused (PeriodClosed) while its period, or the one it moves to, is
    closed for its unit."""
    unknown = set(changes) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    ensure_can_write(user, action.org_unit)
    if "org_unit" in changes:
        ensure_can_write(user, changes["org_unit"])
    # The stored row, not the caller's instance (a bound form may have changed that already).
    stored = Action.objects.select_for_update().get(pk=action.pk)
    if stored.period:
        ensure_open(stored.org_unit, stored.period)
    before = _action_state(stored)
    indicators = changes.pop("indicators", None)
    if "period" in changes:
        changes["period"] = _period_code(changes["period"] or "")
    for name, value in changes.items():
        setattr(action, name, value)
    if action.period:
        ensure_open(action.org_unit, action.period)
    _check_action(action.perspective, action.success_factor)
    action.save()
    if indicators is not None:
        action.indicators.set(list(indicators))
    record_change(actor=Actor(user, source), obj=action, before=before, after=_action_state(action))
    return action


@transaction.atomic
def delete_action(*, user, action: Action, source: str = Source.API) -> None:
    ensure_can_write(user, action.org_unit)
    if action.period:
        ensure_open(action.org_unit, action.period)
    record_deletion(actor=Actor(user, source), obj=action)
    action.delete()
