"""What `close_period` and `reopen_period` share: their options and who acts."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from audit.models import Source
from audit.services import Actor
from divisions.access import is_administrator
from divisions.models import OrgUnit
from divisions.selectors import get_org_unit
from domain.periods import InvalidPeriod, Period


def add_close_arguments(parser, *, reason_required: bool) -> None:
    parser.add_argument("--org-unit", required=True, help="org unit code, e.g. div_nara")
    parser.add_argument("--period", required=True, help="2022, 2022-T2 or 2022-08")
    parser.add_argument(
        "--reason",
        required=reason_required,
        default="",
        help="why (recorded in the audit trail)" + ("" if reason_required else "; optional"),
    )
    parser.add_argument(
        "--user",
        help="the administrator to record as having done it (default: the command line)",
    )


def actor_and_unit(org_unit: str, period: str, username: str | None) -> tuple[Actor, OrgUnit, str]:
    unit = get_org_unit(org_unit)
    if unit is None:
        raise CommandError(f"unknown org unit '{org_unit}'")
    try:
        period_code = Period.parse(period).code
    except InvalidPeriod as exc:
        raise CommandError(str(exc)) from None
    user = None
    if username:
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not is_administrator(user):
            raise CommandError(f"'{username}' is not an administrator")
    return Actor(user=user, source=Source.COMMAND), unit, period_code
