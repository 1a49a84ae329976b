"""Throttling per API token (per user for browser sessions)."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from .models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str | None:
        # Read at request time, not import time, so the setting can be changed per deployment
        # and per test.
        return settings.STYRKORT_API_THROTTLE_RATE or None

    def get_cache_key(self, request, view) -> str | None:
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None  # anonymous requests are refused (401) before they cost anything
        return self.cache_format % {"scope": self.scope, "ident": ident}
