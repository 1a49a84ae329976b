"""The demo: Division Nära's T2 2022 scorecard, one user per role, optional synthetic history.

The data set is a copy of the region's extracted report inside the package, so the app never
reads outside its own tree at run time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from divisions.models import OrgUnit, Role, RoleAssignment
from indicators.definitions import LoadResult, load_scorecard, read_definition
from indicators.imports.run import ImportResult, import_measurements
from indicators.models import ImportSource
from scorecard.models import Action, Perspective

DATA_DIR = Path(__file__).resolve().parent / "fixtures" / "nara_2022_t2"
DEMO_YEAR = 2022  # the targets in the file are those of the year of its data
DEMO_DIVISION = "div_nara"
DEMO_PASSWORD = "styrkort-demo"  # stated in the README; demo databases only


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    role: str
    org_unit: str | None


DEMO_USERS = [
    DemoUser("admin", "Administratör", Role.ADMINISTRATOR, None),
    DemoUser("chef.nara", "Divisionschef Nära", Role.DIVISION_MANAGER, DEMO_DIVISION),
    DemoUser("ledamot", "Ledamot regionstyrelsen", Role.BOARD_MEMBER, None),
    DemoUser("analytiker", "Analytiker", Role.ANALYST, None),
]


@dataclass
class DemoResult:
    scorecard: LoadResult
    measurements: ImportResult
    actions_created: int
    users_created: int


@transaction.atomic
def load_demo() -> DemoResult:
    """Load (or refresh) the demo; running it again changes nothing."""
    definition = read_definition((DATA_DIR / "scorecard.yaml").read_text(encoding="utf-8"))
    scorecard = load_scorecard(definition=definition, year=DEMO_YEAR)
    with (DATA_DIR / "measurements.csv").open("rb") as handle:
        measurements = import_measurements(
            fileobj=handle, filename="nara_2022_t2/measurements.csv", source=ImportSource.DEMO
        )
    return DemoResult(
        scorecard=scorecard,
        measurements=measurements,
        actions_created=_load_actions(DATA_DIR / "actions.csv", DEMO_DIVISION),
        users_created=_create_users(),
    )


def _load_actions(path: Path, org_unit_code: str) -> int:
    unit = OrgUnit.objects.get(code=org_unit_code)
    perspectives = {p.code: p for p in Perspective.objects.all()}
    created = 0
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            _, was_created = Action.objects.update_or_create(
                org_unit=unit,
                perspective=perspectives[row["perspective"]],
                goal=row["goal"].strip(),
                defaults={
                    "number": row["number"].strip(),
                    "description": row["action"].strip(),
                    "comment": row["status_comment"].strip(),
                },
            )
            created += was_created
    return created


def _create_users() -> int:
    user_model = get_user_model()
    created = 0
    for spec in DEMO_USERS:
        user, was_created = user_model.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "is_staff": spec.role == Role.ADMINISTRATOR,
                "is_superuser": spec.role == Role.ADMINISTRATOR,
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created += 1
        unit = OrgUnit.objects.get(code=spec.org_unit) if spec.org_unit else None
        RoleAssignment.objects.get_or_create(user=user, role=spec.role, org_unit=unit)
    return created
