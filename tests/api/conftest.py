"""The API's test cast: one user per role, each with a token, and a second division.

healthchecks-style: the owner (Division Nära's manager), a colleague with access (a reporter
in Nära), and outsiders who must be refused (another division's manager, the board, an
analyst, anonymous).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from accounts.services import create_token
from divisions.models import OrgUnit, Role, RoleAssignment
from divisions.services import OrgUnitSpec, upsert_org_units

OTHER_DIVISION = "div_annan"


@dataclass
class Member:
    username: str
    role: str | None  # None: a user without any role
    scope: str | None  # org unit code of the assignment; None = whole region


CAST = {
    "administrator": Member("admin.api", Role.ADMINISTRATOR, None),
    "manager": Member("chef.api", Role.DIVISION_MANAGER, "div_nara"),
    "reporter": Member("rapportor.api", Role.REPORTER, "primarvarden"),
    "other_manager": Member("chef.annan", Role.DIVISION_MANAGER, OTHER_DIVISION),
    "board_member": Member("ledamot.api", Role.BOARD_MEMBER, None),
    "analyst": Member("analytiker.api", Role.ANALYST, None),
}


def token_client(user) -> APIClient:
    _token, key = create_token(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def second_division(nara_scorecard) -> OrgUnit:
    upsert_org_units(
        specs=[
            OrgUnitSpec(OTHER_DIVISION, "Division Annan", "division", "region_norrbotten"),
            OrgUnitSpec("vo_annan", "VO Annan", "area", OTHER_DIVISION),
        ]
    )
    return OrgUnit.objects.get(code=OTHER_DIVISION)


@pytest.fixture
def cast(nara, second_division) -> dict:
    """Users by role name, each assigned as CAST says."""
    users = {}
    for name, member in CAST.items():
        user = get_user_model().objects.create_user(member.username)  # no password: fast
        if member.role:
            RoleAssignment.objects.create(
                user=user,
                role=member.role,
                org_unit=OrgUnit.objects.get(code=member.scope) if member.scope else None,
            )
        users[name] = user
    return users


@pytest.fixture
def clients(cast) -> dict[str, APIClient]:
    """A token-authenticated API client per role, and "anonymous"."""
    found = {name: token_client(user) for name, user in cast.items()}
    found["anonymous"] = APIClient()
    return found


@pytest.fixture
def api(clients) -> APIClient:
    """An analyst's client: reads everything, writes nothing."""
    return clients["analyst"]
