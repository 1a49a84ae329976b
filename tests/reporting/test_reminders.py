"""Deadline reminders by e-mail, received by a real SMTP server (aiosmtpd) started here.

The small region of cycle_world: Division Alfa lacks 6 things in 2022-T2, Division Beta
nothing. Alfa's managers are chef (chef.alfa@example.org) and chef2 (no address).
"""

from __future__ import annotations

import datetime
import socket
import time

import pytest
from django.utils import timezone

from audit.services import Actor
from dashboard import freezing
from reporting.reminders import send_reminders
from reporting.tasks import send_deadline_reminders
from scorecard import deadlines
from scorecard.models import ReminderSent
from tests.mail import SITE_URL
from tests.reporting.cycle_world import PERIOD, build_world

BOARD = f"{SITE_URL}/rapportera/div_alfa/{PERIOD}/status/"


def set_deadline(world, days_ahead: int, remind: int = 7):
    return deadlines.set_deadline(
        actor=Actor(world.admin),
        period=PERIOD,
        due_date=timezone.localdate() + datetime.timedelta(days=days_ahead),
        remind_days_before=remind,
    )


@pytest.fixture
def world(db):
    return build_world()


def test_the_managers_of_an_incomplete_division_get_one_reminder_before_and_one_on_the_day(
    world, smtp
):
    deadline = set_deadline(world, 5)
    sent = send_reminders()
    assert [(r.org_unit.code, r.kind, r.recipients, r.missing) for r in sent] == [
        ("div_alfa", "before", ["chef.alfa@example.org"], 6)
    ]
    [mail] = smtp.wait_for(1)
    # Alfa's manager with an address only: not Beta's (complete), nor the administrator.
    assert mail.recipients == ["chef.alfa@example.org"]
    date = f"{deadline.due_date.day} {_month(deadline.due_date)} {deadline.due_date.year}"
    assert mail.subject == f"Påminnelse: rapporten 2022-T2 för Division Alfa ska vara klar {date}"
    body = mail.body
    assert "5 dagar kvar." in body and "6 saker saknas ännu:" in body
    assert "Utfall saknas (1):\n- Antal besök – Alfa Söder\n" in body
    assert "Analys saknas (2):" in body and "- Perspektiv Medarbetare" in body
    assert "Ej uppfyllt utan pågående åtgärd (1):\n- Andel besök inom vårdgarantin" in body
    assert f"\n{BOARD}\n" in body and f"\n{SITE_URL}/rapportera/div_alfa/{PERIOD}/\n" in body

    # The task again (beat runs it hourly): nothing more.
    assert send_reminders() == []
    assert len(smtp.messages()) == 1

    # On the day: the second reminder.
    sent = send_reminders(today=deadline.due_date)
    assert [(r.kind, r.recipients) for r in sent] == [("due", ["chef.alfa@example.org"])]
    mail = smtp.wait_for(2)[1]
    assert mail.subject.endswith("ska vara klar i dag") and "Sista dagen är i dag." in mail.body
    assert send_reminders(today=deadline.due_date) == []
    # After the day, and long before the reminder day: nothing.
    assert send_reminders(today=deadline.due_date + datetime.timedelta(days=1)) == []
    assert send_reminders(today=deadline.due_date - datetime.timedelta(days=8)) == []
    assert ReminderSent.objects.count() == 2


def test_a_moved_deadline_reminds_again_and_a_closed_or_complete_division_is_left_alone(
    world, smtp
):
    set_deadline(world, 3)
    assert len(send_reminders()) == 1
    set_deadline(world, 2)  # moved: a new date, a new reminder
    assert len(send_reminders()) == 1
    freezing.close_report(actor=Actor(world.admin), org_unit=world.alfa, period=PERIOD)
    set_deadline(world, 1)
    assert send_reminders() == []  # closed: nothing can be filled any more
    assert len(smtp.wait_for(2)) == 2


def test_a_reminder_the_server_refused_is_sent_on_the_next_run(world, smtp, settings):
    set_deadline(world, 0)
    with_server = settings.EMAIL_PORT
    with _closed_port() as port:
        settings.EMAIL_PORT = port
        assert send_reminders() == []
    assert not ReminderSent.objects.exists()
    settings.EMAIL_PORT = with_server
    assert [r.kind for r in send_reminders()] == ["due"]
    assert smtp.wait_for(1)[0].recipients == ["chef.alfa@example.org"]


@pytest.mark.django_db(transaction=True)
def test_the_beat_task_sends_from_a_real_worker(transactional_db, reminder_worker, smtp):
    world = build_world()
    set_deadline(world, 7)
    first = send_deadline_reminders.apply_async(queue=reminder_worker.queue)
    _wait_done(reminder_worker, first.id)
    [mail] = smtp.wait_for(1)
    assert mail.recipients == ["chef.alfa@example.org"] and f"\n{BOARD}\n" in mail.body
    assert ReminderSent.objects.get().recipients == ["chef.alfa@example.org"]
    # Again (two beats, or a redelivery): still one reminder.
    second = send_deadline_reminders.apply_async(queue=reminder_worker.queue)
    _wait_done(reminder_worker, second.id)
    assert ReminderSent.objects.count() == 1 and len(smtp.messages()) == 1


MONTHS = "januari februari mars april maj juni juli augusti september oktober november december"


def _month(day: datetime.date) -> str:
    return MONTHS.split()[day.month - 1]


class _closed_port:
    """A port nothing listens on."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return self.sock.getsockname()[1]

    def __exit__(self, *exc) -> None:
        self.sock.close()


def _wait_done(worker, task_id: str, timeout: float = 60.0) -> None:
    """Until the worker's log says the task succeeded (no result backend to ask)."""
    deadline = time.monotonic() + timeout
    while f"[{task_id}] succeeded" not in worker.log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            pytest.fail(f"the task did not succeed:\n{worker.output()}")
        time.sleep(0.1)
