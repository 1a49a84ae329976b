"""Reads for API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiToken
from .services import hash_key


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def active_token_for_key(key: str) -> ApiToken | None:
    """The active token whose key this is, with its user, or None."""
    try:
        return ApiToken.objects.select_related("user").get(
            key_hash=hash_key(key), revoked_at__isnull=True, user__is_active=True
        )
    except ApiToken.DoesNotExist:
        return None
