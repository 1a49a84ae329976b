"""factory-boy factories for unit-level tests that need a few rows, not Division Nära.

Users get no usable password unless one is given (hashing is cheap in the test settings,
but a test that signs in through the form says so by passing `password=`).
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from divisions.models import OrgUnit, OrgUnitKind, Role, RoleAssignment


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
