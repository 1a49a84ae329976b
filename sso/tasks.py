"""Celery tasks of single sign-on: thin, a service call."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services


@shared_task
def revoke_tokens_of_absent_users() -> int:
    """Daily (beat): API tokens of SSO users who stopped signing in, see the service."""
    days = settings.STYRKORT_OIDC_TOKEN_IDLE_DAYS
    if days <= 0:
        return 0
    return services.revoke_tokens_of_absent_users(idle=timedelta(days=days))
