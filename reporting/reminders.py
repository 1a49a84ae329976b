"""E-mail reminders of a report period's deadline to the managers of incomplete divisions.

For each deadline whose reminder day has come (`remind_days_before` days before its date,
and the date itself), every division whose report of the period is not complete and not
closed gets one e-mail to its division managers with an e-mail address: what is missing,
counted and listed, and the absolute link to its completeness board. Each (deadline,
division, kind, date) is recorded in ReminderSent in the transaction that sends it, so the
task may run any number of times: a reminder goes out once, and one whose sending failed is
tried again on the next run.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from dashboard.selectors.completeness import Completeness, divisions_completeness
from divisions.models import OrgUnit, Role
from scorecard.deadlines import MAX_REMIND_DAYS
from scorecard.models import ReminderKind, ReminderSent, ReportingDeadline

from .cycle import gap_labels

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reminder:
    deadline: ReportingDeadline
    kind: ReminderKind


def reminders_due(today: date) -> list[Reminder]:
    """The deadlines whose reminder day is today: the date itself, or within the
    `remind_days_before` days before it (a day the task did not run is caught up)."""
    found = []
    for deadline in ReportingDeadline.objects.filter(
        due_date__gte=today, due_date__lte=today + timedelta(days=MAX_REMIND_DAYS)
    ):
        if deadline.due_date == today:
            found.append(Reminder(deadline, ReminderKind.DUE))
        elif deadline.due_date - timedelta(days=deadline.remind_days_before) <= today:
            found.append(Reminder(deadline, ReminderKind.BEFORE))
    return found


def managers_of(org_unit: OrgUnit) -> list[str]:
    """The e-mail addresses of the unit's division managers (active users that have one)."""
    users = (
        get_user_model()
        .objects.filter(
            is_active=True,
            role_assignments__role=Role.DIVISION_MANAGER,
            role_assignments__org_unit=org_unit,
        )
        .exclude(email="")
        .order_by("email")
    )
    return list(dict.fromkeys(users.values_list("email", flat=True)))


def board_url(org_unit: OrgUnit, period: str) -> str:
    path = reverse("reporting:board", kwargs={"org_unit": org_unit.code, "period": period})
    return f"{settings.STYRKORT_SITE_URL}{path}"


def reminder_message(board: Completeness, reminder: Reminder, today: date, recipients: list[str]):
    """The e-mail, in the site's language."""
    deadline = reminder.deadline
    with translation.override(settings.LANGUAGE_CODE):
        labels = gap_labels()
        context = {
            "board": board,
            "deadline": deadline,
            "days_left": (deadline.due_date - today).days,
            "groups": [(labels[kind], count, gaps) for kind, count, gaps in board.groups],
            "url": board_url(board.org_unit, deadline.period),
            "report_url": settings.STYRKORT_SITE_URL
            + reverse(
                "reporting:report",
                kwargs={"org_unit": board.org_unit.code, "period": deadline.period},
            ),
        }
        subject = render_to_string("reporting/reminder_subject.txt", context).strip()
        body = render_to_string("reporting/reminder.txt", context)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=recipients)


def send_reminders(*, today: date | None = None) -> list[ReminderSent]:
    """Send the reminders due today that have not gone out; returns those sent now."""
    today = today or timezone.localdate()
    sent: list[ReminderSent] = []
    for reminder in reminders_due(today):
        deadline = reminder.deadline
        for board in divisions_completeness(deadline.period, deadline=deadline):
            if board.complete or board.closed:
                continue
            recipients = managers_of(board.org_unit)
            if not recipients:
                logger.warning(
                    "no division manager with an e-mail address to remind",
                    extra={"org_unit": board.org_unit.code, "period": deadline.period},
                )
                continue
            try:
                with transaction.atomic():
                    row = ReminderSent.objects.create(
                        deadline=deadline,
                        org_unit=board.org_unit,
                        kind=reminder.kind,
                        due_date=deadline.due_date,
                        recipients=recipients,
                        missing=board.missing,
                        sent_at=timezone.now(),
                    )
                    # In the row's transaction: a failed send leaves no record, and the
                    # next run tries again.
                    reminder_message(board, reminder, today, recipients).send()
            except IntegrityError:
                continue  # already sent (by an earlier run, or one running now)
            except (smtplib.SMTPException, OSError):
                logger.exception(
                    "reminder not sent; tried again on the next run",
                    extra={"org_unit": board.org_unit.code, "period": deadline.period},
                )
                continue
            sent.append(row)
    return sent
