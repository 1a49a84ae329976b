"""Login throttling: too many failed sign-ins lock the user name for a while.

Counted per user name (lower-cased) in the database, so that every gunicorn worker sees the
same count; the row is locked while it is updated, so parallel guesses cannot slip past the
limit. Limits come from settings (STYRKORT_LOGIN_MAX_FAILURES, STYRKORT_LOGIN_LOCK_SECONDS).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import LoginLock


def _key(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _lock_time() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.STYRKORT_LOGIN_LOCK_SECONDS)


def locked_until(username: str) -> datetime.datetime | None:
    """When the name may try again, or None if it may try now."""
    until = (
        LoginLock.objects.filter(username=_key(username))
        .values_list("locked_until", flat=True)
        .first()
    )
    if until is not None and until > timezone.now():
        return until
    return None


@transaction.atomic
def register_failure(*, username: str) -> datetime.datetime | None:
    """Count a failed sign-in; returns the lock's end when this failure locks the name."""
    now = timezone.now()
    lock, _ = LoginLock.objects.select_for_update().get_or_create(
        username=_key(username), defaults={"first_failure_at": now}
    )
    if now - lock.first_failure_at > _lock_time() or (
        lock.locked_until is not None and lock.locked_until <= now
    ):
        # The earlier failures are old, or their lock has run out: start counting afresh.
        lock.failures, lock.first_failure_at, lock.locked_until = 0, now, None
    lock.failures += 1
    if lock.failures >= settings.STYRKORT_LOGIN_MAX_FAILURES:
        lock.locked_until = now + _lock_time()
    lock.save()
    return lock.locked_until


@transaction.atomic
def register_success(*, username: str) -> None:
    LoginLock.objects.filter(username=_key(username)).delete()
