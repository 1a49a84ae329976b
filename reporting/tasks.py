"""Celery tasks of the reporting cycle: thin, a service call (reporting.reminders)."""

from __future__ import annotations

from celery import shared_task

from . import reminders


@shared_task(name="reporting.tasks.send_deadline_reminders")
def send_deadline_reminders() -> int:
    """The deadline reminders due today (beat runs it hourly; each goes out once)."""
    return len(reminders.send_reminders())
