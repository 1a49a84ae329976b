"""The suite's one cast of users, on Division Nära's T2 2022 data.

Every suite uses these people (the API suite under its own user names, see
tests/api/conftest.py); the fixtures `cast` and `other_division` are in tests/conftest.py.

- admin:     administrator (superuser, staff), whole region
- manager:   division manager of Division Nära (div_nara and everything under it)
- reporter:  reporter of Primärvården (an area under div_nara, with its units)
- board:     board member (reads everything, writes nothing)
- analyst:   analyst (reads everything, writes nothing in the browser)
- outsider:  division manager of another division, who must be refused in Nära

Targets of writes: `avp_pajala` (a unit under Primärvården, so inside the manager's and
the reporter's scope) and `div_annan` (outside both).
"""

from __future__ import annotations

from divisions.models import OrgUnit, OrgUnitKind, Role
from indicators.catalogue import copy_scorecard
from indicators.models import Assessment, Measurement, MeasurementRevision
from scorecard.models import Action, PerspectiveAssessment, Scorecard
from tests.factories import OrgUnitFactory, RoleAssignmentFactory, UserFactory

PASSWORD = "Styrkort-test-lösen-1"
INSIDE = "avp_pajala"
OUTSIDE = "div_annan"
PERIOD = "2022-T2"
CAST = {
    "admin": (Role.ADMINISTRATOR, None),
    "manager": (Role.DIVISION_MANAGER, "div_nara"),
    "reporter": (Role.REPORTER, "primarvarden"),
    "board": (Role.BOARD_MEMBER, None),
    "analyst": (Role.ANALYST, None),
    "outsider": (Role.DIVISION_MANAGER, OUTSIDE),
}


def make_user(username: str, role: str, unit_code: str | None, *, password: str | None = None):
    # No password unless a test signs in through the login form: hashing one per user
    # costs more than the rest of the fixture. Other tests use client.force_login.
    user = UserFactory(
        username=username,
        password=password,
        first_name=username.capitalize(),
        is_staff=role == Role.ADMINISTRATOR,
        is_superuser=role == Role.ADMINISTRATOR,
    )
    unit = OrgUnit.objects.get(code=unit_code) if unit_code else None
    RoleAssignmentFactory(user=user, role=role, org_unit=unit)
    return user


def add_other_division() -> OrgUnit:
    """Division Annan, beside Nära under the region: the outsider's division, with a copy of
    Nära's 2022 scorecard as its own (when Nära's is loaded)."""
    region = OrgUnit.objects.get(kind=OrgUnitKind.REGION)
    other = OrgUnitFactory(
        code=OUTSIDE, name="Division Annan", kind=OrgUnitKind.DIVISION, parent=region
    )
    nara = Scorecard.objects.filter(org_unit__code="div_nara", year=2022).first()
    if nara is not None and not other.scorecards.exists():
        copy_scorecard(nara, org_unit=other, year=2022)
    return other


def add_cast() -> dict:
    """The users of CAST by name, each with the role and scope CAST gives."""
    return {name: make_user(name, role, unit) for name, (role, unit) in CAST.items()}


def db_state() -> tuple:
    """Everything a write path may change, to compare before and after a refusal."""
    from audit.models import AuditEntry

    return (
        list(Measurement.objects.order_by("pk").values_list()),
        list(MeasurementRevision.objects.order_by("pk").values_list()),
        list(Assessment.objects.order_by("pk").values_list()),
        list(PerspectiveAssessment.objects.order_by("pk").values_list()),
        list(Action.objects.order_by("pk").values_list()),
        list(AuditEntry.objects.order_by("pk").values_list()),
    )
