"""Who may do what, in one place: every view, API endpoint and service asks here.

Reading is open to every signed-in user (the board reads everything). Writing follows the
role: administrators everywhere; division managers and reporters within the subtree of
each org unit they are assigned to; board members and analysts never.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from .models import OrgUnit, Role

WRITER_ROLES = (Role.DIVISION_MANAGER, Role.REPORTER)


def roles_of(user) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    if not hasattr(user, "_styrkort_roles"):
        user._styrkort_roles = set(user.role_assignments.values_list("role", flat=True))
    return user._styrkort_roles


def is_administrator(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or Role.ADMINISTRATOR in roles_of(user)


def writable_paths(user) -> list[str]:
    """Path prefixes of the subtrees a user may change ("/" = everything)."""
    if not getattr(user, "is_authenticated", False):
        return []
    if is_administrator(user):
        return ["/"]
    if not hasattr(user, "_styrkort_writable"):
        user._styrkort_writable = list(
            user.role_assignments.filter(role__in=WRITER_ROLES, org_unit__isnull=False)
            .values_list("org_unit__path", flat=True)
        )
    return user._styrkort_writable


def can_write(user, org_unit: OrgUnit) -> bool:
    return any(org_unit.path.startswith(prefix) for prefix in writable_paths(user))


def can_write_anywhere(user) -> bool:
    return bool(writable_paths(user))


def ensure_can_write(user, org_unit: OrgUnit) -> None:
    if not can_write(user, org_unit):
        raise PermissionDenied(f"{user} may not change data for {org_unit.code}")
