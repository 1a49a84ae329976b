"""Sign-in through the region's identity provider: the user, their roles, their refusal.

The directory is the source of truth for the roles of a user who signs in through it:
every sign-in sets the user's role assignments to exactly what their groups give (adding
and removing), and each change is written to the audit trail. A user whose groups give
no role is refused, loses the roles they had and has their API tokens revoked: that is
how leaving the organisation (or Styrkort's groups) reaches the scripts too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import revoke_all_tokens
from audit.models import Source
from audit.services import Actor, plain, record_change, record_deletion
from divisions.models import OrgUnit, RoleAssignment

from .mapping import Grant, GroupMap
from .models import OidcIdentity
from .policy import break_glass_usernames

logger = logging.getLogger(__name__)

USERNAME_MAX_LENGTH = 150
# The profile fields kept in step with the directory: (user field, claim).
PROFILE_CLAIMS = (("email", "email"), ("first_name", "given_name"), ("last_name", "family_name"))


class SignInRefused(Exception):
    """The provider vouched for the person, but Styrkort will not let them in."""


def groups_of(claims: dict[str, Any], claim: str) -> list[str]:
    """The groups claim as a list (some providers send one group as a plain string)."""
    value = claims.get(claim) or []
    if isinstance(value, str):
        value = [value]
    return [group for group in value if isinstance(group, str)]


def wanted_assignments(grants: Iterable[Grant]) -> set[tuple[str, int | None]]:
    """(role, org unit id) pairs for the grants; codes of unknown units are ignored."""
    grants = set(grants)
    codes = {grant.org_unit_code for grant in grants if grant.org_unit_code}
    units = dict(OrgUnit.objects.filter(code__in=codes).values_list("code", "pk"))
    wanted = set()
    for grant in grants:
        if grant.org_unit_code and grant.org_unit_code not in units:
            logger.warning("SSO: no org unit %r for role %s", grant.org_unit_code, grant.role)
            continue
        wanted.add((grant.role, units.get(grant.org_unit_code)))
    return wanted


@transaction.atomic
def apply_roles(
    *, user, wanted: set[tuple[str, int | None]], actor: Actor, reference: str
) -> tuple[int, int]:
    """Make the user's role assignments exactly `wanted`; returns (added, removed)."""
    current = {
        (assignment.role, assignment.org_unit_id): assignment
        for assignment in RoleAssignment.objects.select_for_update(of=("self",))
        .select_related("org_unit", "user")
        .filter(user=user)
    }
    removed = 0
    for key, assignment in current.items():
        if key not in wanted:
            record_deletion(actor=actor, obj=assignment, reference=reference)
            assignment.delete()
            removed += 1
    added = 0
    for role, org_unit_id in sorted(wanted - set(current), key=str):
        assignment = RoleAssignment.objects.create(user=user, role=role, org_unit_id=org_unit_id)
        record_change(actor=actor, obj=assignment, before=None, reference=reference)
        added += 1
    # access.py caches a user's roles on the instance; this one is now stale.
    for cached in ("_styrkort_roles", "_styrkort_writable"):
        user.__dict__.pop(cached, None)
    return added, removed


@transaction.atomic
def revoke_tokens(*, user, actor: Actor, reference: str) -> list[ApiToken]:
    tokens = revoke_all_tokens(user=user)
    for token in tokens:
        record_change(
            actor=actor,
            obj=token,
            before={"revoked_at": None},
            after={"revoked_at": plain(token.revoked_at)},
            reference=reference,
        )
    return tokens


def _username(claims: dict[str, Any], claim: str) -> str:
    for name in (claims.get(claim), claims.get("email"), claims.get("sub")):
        if isinstance(name, str) and name.strip():
            return name.strip()[:USERNAME_MAX_LENGTH]
    raise SignInRefused("the provider sent no user name, e-mail or subject")


def _user_for_new_identity(username: str):
    """The local user a first sign-in becomes: an existing one of that name (a region
    moving its users to SSO), or a new one without a usable password."""
    User = get_user_model()
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        return user
    # The break-glass accounts stay local: a directory entry of the same name must not
    # take them over (and with them the way in when the provider is down).
    if user.is_superuser or username.casefold() in break_glass_usernames():
        raise SignInRefused(f"{username!r} is a local administrator account")
    if OidcIdentity.objects.filter(user=user).exists():
        raise SignInRefused(f"{username!r} already belongs to another directory identity")
    return user


def sign_in(
    *,
    issuer: str,
    claims: dict[str, Any],
    group_map: GroupMap,
    groups_claim: str = "groups",
    username_claim: str = "preferred_username",
    remote_addr: str | None = None,
):
    """The user the verified `claims` sign in as, with roles re-applied from their groups.

    Raises SignInRefused when their groups give no role (their earlier roles are removed
    and their API tokens revoked, and that is committed before the refusal) or when the
    account cannot be theirs.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SignInRefused("the provider sent no subject")
    groups = groups_of(claims, groups_claim)
    wanted = wanted_assignments(group_map.grants(groups))
    reference = f"SSO-inloggning, grupper: {', '.join(sorted(groups)) or '-'}"[:200]
    if not wanted:
        refuse(
            issuer=issuer,
            subject=subject,
            groups=groups,
            reference=reference,
            remote_addr=remote_addr,
        )
        raise SignInRefused(f"no Styrkort role in the groups of {subject!r}")
    return _accept(
        issuer=issuer,
        subject=subject,
        claims=claims,
        groups=groups,
        wanted=wanted,
        username=_username(claims, username_claim),
        reference=reference,
        remote_addr=remote_addr,
    )


@transaction.atomic
def refuse(
    *, issuer: str, subject: str, groups: list[str], reference: str, remote_addr: str | None
) -> None:
    """A known identity whose groups no longer give a role: remove its roles, revoke its
    API tokens. An unknown one has nothing here to take away."""
    identity = (
        OidcIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is None:
        return
    actor = Actor(user=identity.user, source=Source.SYSTEM, remote_addr=remote_addr)
    apply_roles(user=identity.user, wanted=set(), actor=actor, reference=reference)
    revoke_tokens(user=identity.user, actor=actor, reference=reference)
    identity.groups = groups
    identity.save(update_fields=["groups"])


@transaction.atomic
def _accept(
    *,
    issuer: str,
    subject: str,
    claims: dict[str, Any],
    groups: list[str],
    wanted: set[tuple[str, int | None]],
    username: str,
    reference: str,
    remote_addr: str | None,
):
    identity = (
        OidcIdentity.objects.select_for_update()
        .select_related("user")
        .filter(issuer=issuer, subject=subject)
        .first()
    )
    if identity is None:
        identity = OidcIdentity(
            user=_user_for_new_identity(username), issuer=issuer, subject=subject
        )
    user = identity.user
    if not user.is_active:
        raise SignInRefused(f"{user.username!r} is deactivated in Styrkort")

    changed = []
    for field, claim in PROFILE_CLAIMS:
        value = claims.get(claim)
        if isinstance(value, str) and getattr(user, field) != value[:150]:
            setattr(user, field, value[:150])
            changed.append(field)
    if changed:
        user.save(update_fields=changed)

    identity.last_sign_in_at = timezone.now()
    identity.groups = groups
    identity.save()
    actor = Actor(user=user, source=Source.SYSTEM, remote_addr=remote_addr)
    apply_roles(user=user, wanted=wanted, actor=actor, reference=reference)
    return user


@transaction.atomic
def revoke_tokens_of_absent_users(*, idle: timedelta, now: datetime | None = None) -> int:
    """Revoke the API tokens of SSO users who have not signed in through the provider for
    `idle`: someone removed from the directory never signs in again, so never reaches
    the refusal above. Returns the number of tokens revoked."""
    cutoff = (now or timezone.now()) - idle
    absent = (
        OidcIdentity.objects.filter(last_sign_in_at__lt=cutoff)
        .filter(user__api_tokens__revoked_at__isnull=True)
        .select_related("user")
        .distinct()
    )
    revoked = 0
    for identity in absent:
        actor = Actor(user=None, source=Source.SYSTEM)
        reference = f"Ingen SSO-inloggning sedan {identity.last_sign_in_at:%Y-%m-%d}"
        revoked += len(revoke_tokens(user=identity.user, actor=actor, reference=reference))
    return revoked
