"""The API's test cast: one user per role, each with a token, and a second division.

healthchecks-style: the owner (Division Nära's manager), a colleague with access (a reporter
in Nära), and outsiders who must be refused (another division's manager, the board, an
analyst, anonymous).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.services import create_token
from divisions.models import OrgUnit
from divisions.services import OrgUnitSpec, upsert_org_units
from indicators.catalogue import copy_scorecard
from scorecard.models import Scorecard
from tests.cast import CAST, OUTSIDE, make_user

OTHER_DIVISION = OUTSIDE

# The suite's cast (tests/cast.py) under the API's names: role name -> (member, user name).
API_NAMES = {
    "administrator": ("admin", "admin.api"),
    "manager": ("manager", "chef.api"),
    "reporter": ("reporter", "rapportor.api"),
    "other_manager": ("outsider", "chef.annan"),
    "board_member": ("board", "ledamot.api"),
    "analyst": ("analyst", "analytiker.api"),
}


def token_client(user) -> APIClient:
    _token, key = create_token(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def second_division(nara_scorecard) -> OrgUnit:
    """Division Annan beside Nära, with a copy of Nära's 2022 scorecard as its own."""
    upsert_org_units(
        specs=[
            OrgUnitSpec(OTHER_DIVISION, "Division Annan", "division", "region_norrbotten"),
            OrgUnitSpec("vo_annan", "VO Annan", "area", OTHER_DIVISION),
        ]
    )
    other = OrgUnit.objects.get(code=OTHER_DIVISION)
    copy_scorecard(
        Scorecard.objects.get(org_unit__code="div_nara", year=2022), org_unit=other, year=2022
    )
    return other


@pytest.fixture
def cast(nara, second_division) -> dict:
    """Users by role name, each assigned as tests/cast.py's CAST says."""
    return {name: make_user(login, *CAST[member]) for name, (member, login) in API_NAMES.items()}


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
