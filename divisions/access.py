"""Who may do what, in one place: every view, API endpoint and service asks here.

Reading is open to every signed-in user (the board reads everything). Writing follows the
role: administrators everywhere; division managers and reporters within the subtree of
each org unit they are assigned to; board members and analysts never.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404

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
            user.role_assignments.filter(role__in=WRITER_ROLES, org_unit__isnull=False).values_list(
                "org_unit__path", flat=True
            )
        )
    return user._styrkort_writable


def can_write(user, org_unit: OrgUnit) -> bool:
    return any(org_unit.is_within(prefix) for prefix in writable_paths(user))


def can_write_anywhere(user) -> bool:
    return bool(writable_paths(user))


def ensure_can_write(user, org_unit: OrgUnit) -> None:
    if not can_write(user, org_unit):
        raise PermissionDenied(f"{user} may not change data for {org_unit.code}")


def ensure_administrator(user) -> None:
    """Closing periods and maintaining the structure are for administrators only."""
    if not is_administrator(user):
        raise PermissionDenied(f"{user} is not an administrator")


def can_read(user) -> bool:
    """Every signed-in user reads everything (the board reads the whole region)."""
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def org_unit_for_writing(user, code: str) -> OrgUnit:
    """The org unit `code` if the user may change its data: 404 if unknown, else 403."""
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404("no such org unit")
    ensure_can_write(user, unit)
    return unit


def org_unit_for_reading(user, code: str) -> OrgUnit:
    unit = OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise Http404("no such org unit")
    if not can_read(user):
        raise PermissionDenied(f"{user} may not read {code}")
    return unit
