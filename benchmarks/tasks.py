"""Celery task of the national comparison: thin, the sync with the configured source."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from . import sync


@shared_task
def sync_benchmarks() -> str:
    """Beat (daily when STYRKORT_KOLADA_SYNC is on): fetch the mapped KPIs from Kolada.

    No retry of its own: the client retries each request, and a failed sync keeps the last
    good values until tomorrow's run.
    """
    if not settings.STYRKORT_KOLADA_SYNC:
        return "disabled (STYRKORT_KOLADA_SYNC)"
    return sync.sync_benchmarks(client=sync.default_client()).summary()
