"""Setting and removing the deadline of a report period: administrators only, audited."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from audit.services import Actor, record_change, record_deletion, snapshot
from divisions.access import ensure_administrator
from domain.periods import InvalidPeriod, Period

from .models import ReportingDeadline

MAX_REMIND_DAYS = 60


@transaction.atomic
def set_deadline(
    *, actor: Actor, period: str, due_date: date, remind_days_before: int = 7
) -> ReportingDeadline:
    """Create or move the deadline of `period`; a moved date sends its reminders again."""
    ensure_administrator(actor.user)
    try:
        period = Period.parse(period).code
    except InvalidPeriod as exc:
        raise ValidationError({"period": str(exc)}) from None
    if not 0 <= remind_days_before <= MAX_REMIND_DAYS:
        raise ValidationError({"remind_days_before": f"0..{MAX_REMIND_DAYS}"})
    current = ReportingDeadline.objects.select_for_update().filter(period=period).first()
    before = snapshot(current) if current is not None else None
    deadline, _created = ReportingDeadline.objects.update_or_create(
        period=period,
        defaults={
            "due_date": due_date,
            "remind_days_before": remind_days_before,
            "set_by": actor.user,
        },
    )
    record_change(actor=actor, obj=deadline, before=before)
    return deadline


@transaction.atomic
def remove_deadline(*, actor: Actor, deadline: ReportingDeadline) -> None:
    ensure_administrator(actor.user)
    record_deletion(actor=actor, obj=deadline)
    deadline.delete()
