"""Who may still sign in with a local password, and the group mapping in force."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from .mapping import GroupMap, parse_group_map


def break_glass_usernames() -> set[str]:
    return {name.casefold() for name in settings.STYRKORT_BREAK_GLASS_USERS}


def local_password_allowed(username: str) -> bool:
    """With local passwords off, only the break-glass administrators keep theirs: the way in
    when the region's identity provider is down or misconfigured."""
    if settings.STYRKORT_LOCAL_PASSWORDS:
        return True
    return (username or "").casefold() in break_glass_usernames()


@lru_cache(maxsize=4)
def _parsed(text: str) -> GroupMap:
    return parse_group_map(text)


def group_map() -> GroupMap:
    return _parsed(settings.STYRKORT_OIDC_GROUP_MAP)
