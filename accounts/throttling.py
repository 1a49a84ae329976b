"""API throttling per user, across all their tokens, their browser session and every web
process: the counts are in the shared rate state (accounts/rates.py, Redis).

Two scopes: every request counts against STYRKORT_API_THROTTLE_RATE, and a CSV or XLSX
export also against STYRKORT_API_EXPORT_THROTTLE_RATE, since one export can cost as much
as thousands of page reads.
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from . import rates

EXPORT_FORMATS = ("csv", "xlsx")


class UserRateThrottle(BaseThrottle):
    scope = "user"

    def get_rate(self) -> rates.Rate | None:
        # Read at request time, not import time, so the setting can be changed per deployment
        # and per test.
        return rates.Rate.parse(settings.STYRKORT_API_THROTTLE_RATE)

    def applies(self, request) -> bool:
        return True

    def allow_request(self, request, view) -> bool:
        self._wait = None
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return True  # anonymous requests are refused (401) before they cost anything
        rate = self.get_rate()
        if rate is None or not self.applies(request):
            return True
        decision = rates.take(f"throttle:{self.scope}:user-{user.pk}", rate)
        if not decision.allowed:
            self._wait = max(1, math.ceil(decision.retry_after))
        return decision.allowed

    def wait(self) -> float | None:
        return self._wait


class ExportRateThrottle(UserRateThrottle):
    scope = "export"

    def get_rate(self) -> rates.Rate | None:
        return rates.Rate.parse(settings.STYRKORT_API_EXPORT_THROTTLE_RATE)

    def applies(self, request) -> bool:
        renderer = getattr(request, "accepted_renderer", None)
        return getattr(renderer, "format", None) in EXPORT_FORMATS
