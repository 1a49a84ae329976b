"""factory-boy factories for unit-level tests that need a few rows, not Division Nära.

Users get no usable password unless one is given (hashing is cheap in the test settings,
but a test that signs in through the form says so by passing `password=`).
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from divisions.models import OrgUnit, OrgUnitKind, Role, RoleAssignment
from indicators.models import Indicator, Placement
from scorecard.models import Perspective, Scorecard, StrategicGoal, SuccessFactor


class UserFactory(DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")

    @classmethod
    def _create(cls, model_class, *args, password=None, **kwargs):
        # create_user, as the app makes users: normalised name, hashed or unusable password.
        return cls._get_manager(model_class).create_user(*args, password=password, **kwargs)


class OrgUnitFactory(DjangoModelFactory):
    """A unit under `parent` (default: a new region); the path is the parent's plus the code."""

    class Meta:
        model = OrgUnit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"enhet_{n}")
    name = factory.LazyAttribute(lambda o: o.code.replace("_", " ").capitalize())
    parent = None
    kind = factory.LazyAttribute(lambda o: OrgUnitKind.UNIT if o.parent else OrgUnitKind.REGION)
    path = factory.LazyAttribute(lambda o: f"{o.parent.path if o.parent else '/'}{o.code}/")


class RoleAssignmentFactory(DjangoModelFactory):
    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.ANALYST
    org_unit = None


def place(
    indicator: Indicator,
    scorecard_or_unit: Scorecard | OrgUnit,
    *,
    year: int = 2022,
    success_factor: SuccessFactor | None = None,
    **fields,
) -> Placement:
    """Put `indicator` on a scorecard: the one given, or the unit's for `year` (made when
    missing), under `success_factor` (default: the scorecard's first, else a new one under
    the first strategic goal, made with its perspective when there is none)."""
    if isinstance(scorecard_or_unit, Scorecard):
        scorecard = scorecard_or_unit
    else:
        scorecard, _ = Scorecard.objects.get_or_create(org_unit=scorecard_or_unit, year=year)
    if success_factor is None:
        success_factor = scorecard.success_factors.order_by("pk").first()
    if success_factor is None:
        goal = StrategicGoal.objects.order_by("pk").first()
        if goal is None:
            perspective = Perspective.objects.order_by("order").first()
            if perspective is None:
                perspective = Perspective.objects.create(code="samhalle", name="Samhälle", order=1)
            goal = StrategicGoal.objects.create(code="mal", perspective=perspective, name="Mål")
        success_factor = SuccessFactor.objects.create(
            scorecard=scorecard, code="faktor", strategic_goal=goal, name="Framgångsfaktor"
        )
    fields.setdefault("name", indicator.name)
    fields.setdefault("breakdowns", list(indicator.breakdowns))
    return Placement.objects.create(
        scorecard=scorecard, indicator=indicator, success_factor=success_factor, **fields
    )
