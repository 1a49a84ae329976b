"""Closing and reopening report periods, and the check every write path makes.

A close of period P on org unit U freezes P for U and every unit under it: no form, import,
API call or admin page may change measurements, assessments or perspective assessments of
that unit and period until an administrator reopens it. Both steps are recorded in the
audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Operation
from audit.services import Actor, record_event
from divisions.access import ensure_administrator
from divisions.models import OrgUnit
from domain.periods import Period

from .models import PeriodClose


class PeriodClosed(PermissionDenied):
    """The period is closed for this org unit: nothing may change.

    A PermissionDenied, so that a view or API endpoint that lets it through answers 403;
    forms catch it and show its message.
    """

    def __init__(self, org_unit: OrgUnit, period: str, close: PeriodClose | None = None) -> None:
        self.org_unit = org_unit
        self.period = period
        self.close = close
        closed_on = close.org_unit.name if close is not None else org_unit.name
        super().__init__(
            _("Perioden %(period)s är stängd för %(unit)s; inget kan ändras.")
            % {"period": period, "unit": closed_on}
        )


class AlreadyClosed(Exception):
    pass


class NotClosed(Exception):
    pass


def closure_for(org_unit: OrgUnit, period: str) -> PeriodClose | None:
    """The close in force that covers this unit and period (its own or an ancestor's)."""
    return (
        PeriodClose.objects.filter(
            period=period, reopened_at__isnull=True, org_unit__path__in=org_unit.lineage_paths
        )
        .select_related("org_unit", "closed_by")
        .order_by("org_unit__path")
        .first()
    )


def is_closed(org_unit: OrgUnit, period: str) -> bool:
    return closure_for(org_unit, period) is not None


def ensure_open(org_unit: OrgUnit, period: str) -> None:
    """Raise PeriodClosed when the period is closed for the unit."""
    close = closure_for(org_unit, period)
    if close is not None:
        raise PeriodClosed(org_unit, period, close)


def closed_lookup() -> Callable[[str, str], bool]:
    """One query now, then a check per row: (org unit path, period) -> closed?

    For row-by-row bulk paths (the import's resolver) that know each unit's path.
    """
    closes: dict[str, tuple[str, ...]] = defaultdict(tuple)
    for path, period in PeriodClose.objects.filter(reopened_at__isnull=True).values_list(
        "org_unit__path", "period"
    ):
        closes[period] += (path,)

    def is_closed_at(unit_path: str, period: str) -> bool:
        paths = closes.get(period)
        return bool(paths) and unit_path.startswith(paths)

    return is_closed_at


@transaction.atomic
def close_period(*, actor: Actor, org_unit: OrgUnit, period: str) -> PeriodClose:
    """Close `period` for `org_unit` and its subtree. Administrators only."""
    ensure_administrator(actor.user)
    period = Period.parse(period).code
    # Lock the unit's row so that two administrators closing at once get one close.
    OrgUnit.objects.select_for_update().filter(pk=org_unit.pk).first()
    if PeriodClose.objects.filter(
        org_unit=org_unit, period=period, reopened_at__isnull=True
    ).exists():
        raise AlreadyClosed(f"{period} is already closed for {org_unit.code}")
    close = PeriodClose.objects.create(
        org_unit=org_unit, period=period, closed_by=actor.user, closed_at=timezone.now()
    )
    record_event(
        actor=actor,
        operation=Operation.CLOSE,
        obj=close,
        changes={"closed": [False, True]},
        org_unit_id=org_unit.pk,
        period=period,
    )
    return close


@transaction.atomic
def reopen_period(*, actor: Actor, org_unit: OrgUnit, period: str) -> PeriodClose:
    """Reopen a period closed on exactly this unit. Administrators only."""
    ensure_administrator(actor.user)
    period = Period.parse(period).code
    close = (
        PeriodClose.objects.select_for_update()
        .filter(org_unit=org_unit, period=period, reopened_at__isnull=True)
        .first()
    )
    if close is None:
        raise NotClosed(f"{period} is not closed for {org_unit.code}")
    close.reopened_by = actor.user
    close.reopened_at = timezone.now()
    close.save(update_fields=["reopened_by", "reopened_at"])
    record_event(
        actor=actor,
        operation=Operation.REOPEN,
        obj=close,
        changes={"closed": [True, False]},
        org_unit_id=org_unit.pk,
        period=period,
    )
    return close
