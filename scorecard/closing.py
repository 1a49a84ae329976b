"""Closing and reopening report periods, and the check every write path makes.

A close of period P on org unit U freezes P for U and every unit under it: no form, import,
API call or admin page may change measurements, assessments or perspective assessments of
that unit and period until an administrator reopens it. A tertial's close also closes the
months it adds, a year's all its months (Period.closed_by); a unit whose report the close
froze (FrozenReport) stays closed when it moves elsewhere. Both steps are recorded in the
audit trail, with their reasons.

These are the bare records; dashboard.freezing closes and reopens with the report's frozen
content, and is what the page, the commands and the API call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import Operation, Source
from audit.services import Actor, record_event
from divisions.access import ensure_administrator
from divisions.models import OrgUnit
from domain.periods import InvalidPeriod, Period

from .models import FrozenReport, PeriodClose


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


class ReasonRequired(ValueError):
    def __init__(self) -> None:
        super().__init__(_("Ange varför perioden öppnas igen."))


def _ensure_may_close(actor: Actor) -> None:
    # The command line (manage.py close_period without --user) is the operator's own tool.
    if actor.user is None and actor.source in (Source.COMMAND, Source.SYSTEM):
        return
    ensure_administrator(actor.user)


def closure_for(org_unit: OrgUnit, period: str) -> PeriodClose | None:
    """The close in force that covers this unit and period: its own or an ancestor's, one
    of the tertial or year a month lies in, or one that froze this unit's report."""
    covering = Period.parse(period).closed_by()
    return (
        PeriodClose.objects.filter(period__in=covering, reopened_at__isnull=True)
        .filter(
            Q(org_unit__path__in=org_unit.lineage_paths)
            | Q(pk__in=FrozenReport.objects.filter(org_unit=org_unit).values("close_id"))
        )
        .select_related("org_unit", "closed_by")
        .order_by("org_unit__path", "closed_at")
        .first()
    )


@dataclass(frozen=True)
class ReportCloses:
    """What a report page needs to know of closes, from one query."""

    in_force: PeriodClose | None  # the close covering the unit and period (closure_for)
    frozen: PeriodClose | None  # the close whose frozen report of this unit is shown or compared


def report_closes(org_unit: OrgUnit, period: str) -> ReportCloses:
    """The close in force for the unit and period, and the close that froze this unit's
    report of exactly this period: the one in force, else the latest reopened one."""
    covering = Period.parse(period).closed_by()
    frozen_here = FrozenReport.objects.filter(close=OuterRef("pk"), org_unit=org_unit)
    lineage = set(org_unit.lineage_paths)
    closes = list(
        PeriodClose.objects.filter(period__in=covering)
        .annotate(has_frozen=Exists(frozen_here))
        .filter(
            Q(reopened_at__isnull=True, org_unit__path__in=lineage)
            | Q(reopened_at__isnull=True, has_frozen=True)
            | Q(period=period, has_frozen=True)
        )
        .select_related("org_unit", "closed_by", "reopened_by")
    )
    in_force = sorted(
        (c for c in closes if c.in_force and (c.org_unit.path in lineage or c.has_frozen)),
        key=lambda c: (c.org_unit.path, c.closed_at),
    )
    frozen = sorted(
        (c for c in closes if c.has_frozen and c.period == period),
        key=lambda c: (not c.in_force, -c.closed_at.timestamp(), -c.pk),
    )
    return ReportCloses(in_force[0] if in_force else None, frozen[0] if frozen else None)


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
    in_force = (
        PeriodClose.objects.filter(reopened_at__isnull=True)
        .values_list("org_unit__path", "period")
        .order_by()
    )
    # The units a close froze, where they are now (one of them may have moved).
    frozen = (
        FrozenReport.objects.filter(close__reopened_at__isnull=True)
        .values_list("org_unit__path", "close__period")
        .order_by()
    )
    for path, period in in_force.union(frozen):
        closes[period] += (path,)
    covering: dict[str, tuple[str, ...]] = {}

    def is_closed_at(unit_path: str, period: str) -> bool:
        if not closes:
            return False
        codes = covering.get(period)
        if codes is None:
            try:
                codes = Period.parse(period).closed_by()
            except InvalidPeriod:  # the caller reports it as the row's error
                codes = (period,)
            covering[period] = codes
        return any(unit_path.startswith(closes[code]) for code in codes if code in closes)

    return is_closed_at


@transaction.atomic
def close_period(*, actor: Actor, org_unit: OrgUnit, period: str, reason: str = "") -> PeriodClose:
    """Close `period` for `org_unit` and its subtree. Administrators only."""
    _ensure_may_close(actor)
    period = Period.parse(period).code
    # Lock the unit's row so that two administrators closing at once get one close.
    OrgUnit.objects.select_for_update().filter(pk=org_unit.pk).first()
    if PeriodClose.objects.filter(
        org_unit=org_unit, period=period, reopened_at__isnull=True
    ).exists():
        raise AlreadyClosed(f"{period} is already closed for {org_unit.code}")
    close = PeriodClose.objects.create(
        org_unit=org_unit,
        period=period,
        closed_by=actor.user,
        closed_at=timezone.now(),
        reason=reason.strip(),
    )
    changes: dict[str, list] = {"closed": [False, True]}
    if close.reason:
        changes["reason"] = [None, close.reason]
    record_event(
        actor=actor,
        operation=Operation.CLOSE,
        obj=close,
        changes=changes,
        org_unit_id=org_unit.pk,
        period=period,
    )
    return close


@transaction.atomic
def reopen_period(*, actor: Actor, org_unit: OrgUnit, period: str, reason: str) -> PeriodClose:
    """Reopen a period closed on exactly this unit. Administrators only, with a reason."""
    _ensure_may_close(actor)
    period = Period.parse(period).code
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired
    close = (
        PeriodClose.objects.select_for_update()
        .filter(org_unit=org_unit, period=period, reopened_at__isnull=True)
        .first()
    )
    if close is None:
        raise NotClosed(f"{period} is not closed for {org_unit.code}")
    close.reopened_by = actor.user
    close.reopened_at = timezone.now()
    close.reopen_reason = reason
    close.save(update_fields=["reopened_by", "reopened_at", "reopen_reason"])
    record_event(
        actor=actor,
        operation=Operation.REOPEN,
        obj=close,
        changes={"closed": [True, False], "reason": [None, reason]},
        org_unit_id=org_unit.pk,
        period=period,
    )
    return close
