"""Reads of the organisation tree."""

from .models import OrgUnit


def get_org_unit(code: str) -> OrgUnit | None:
    return OrgUnit.objects.filter(code=code).first()


def default_org_unit_for(user) -> OrgUnit | None:
    """Where a user lands: their first scoped unit, else the first division, else the region."""
    assignment = (
        user.role_assignments.filter(org_unit__isnull=False).select_related("org_unit").first()
    )
    if assignment is not None:
        return assignment.org_unit
    return (
        OrgUnit.objects.filter(kind="division").order_by("path").first()
        or OrgUnit.objects.order_by("path").first()
    )
