"""Sign-in through the provider: users, roles from groups, the audit trail, refusal."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import get_user_model

from accounts.models import ApiToken
from accounts.services import create_token
from audit.models import AuditEntry
from divisions.models import OrgUnit, Role, RoleAssignment
from sso import services
from sso.mapping import parse_group_map
from sso.models import OidcIdentity

from .provider import GROUP_MAP

ISSUER = "https://login.region.example"
GROUPS = parse_group_map(GROUP_MAP)


@pytest.fixture
def units(db):
    region = OrgUnit.objects.create(code="region", name="Regionen", kind="region", path="/region/")
    nara = OrgUnit.objects.create(
        code="div_nara", name="Nära", kind="division", parent=region, path="/region/div_nara/"
    )
    akut = OrgUnit.objects.create(
        code="div_akut", name="Akut", kind="division", parent=region, path="/region/div_akut/"
    )
    return {"nara": nara, "akut": akut}


def sign_in(sub: str = "sub-1", *groups: str, **claims):
    claims = {"sub": sub, "preferred_username": "anna", "groups": list(groups), **claims}
    return services.sign_in(issuer=ISSUER, claims=claims, group_map=GROUPS)


def roles(user) -> set[tuple[str, str | None]]:
    return set(user.role_assignments.values_list("role", "org_unit__code"))


def role_trail() -> list[tuple[str, dict]]:
    entries = AuditEntry.objects.filter(content_type__model="roleassignment").order_by("pk")
    return [(entry.operation, entry.changes) for entry in entries]


def test_first_sign_in_creates_the_user_with_the_roles_of_the_groups(units):
    user = sign_in("sub-1", "styrkort-chef-div_nara", "styrkort-analytiker", email="a@r.se")
    assert user.username == "anna"
    assert user.email == "a@r.se"
    assert not user.has_usable_password()
    assert roles(user) == {(Role.DIVISION_MANAGER, "div_nara"), (Role.ANALYST, None)}
    assert OidcIdentity.objects.get(user=user).subject == "sub-1"
    assert [operation for operation, _ in role_trail()] == ["create", "create"]


def test_a_changed_group_changes_the_role_and_the_trail_says_so(units):
    user = sign_in("sub-1", "styrkort-chef-div_nara")
    again = sign_in("sub-1", "styrkort-chef-div_akut")
    assert again == user
    assert roles(user) == {(Role.DIVISION_MANAGER, "div_akut")}
    trail = role_trail()
    assert [operation for operation, _ in trail] == ["create", "delete", "create"]
    assert trail[1][1]["org_unit"] == [units["nara"].pk, None]
    assert trail[2][1]["org_unit"] == [None, units["akut"].pk]
    last = AuditEntry.objects.order_by("pk").last()
    assert last.username == "anna"
    assert last.reference == "SSO-inloggning, grupper: styrkort-chef-div_akut"


def test_the_same_groups_again_change_nothing(units):
    sign_in("sub-1", "styrkort-ledamot")
    sign_in("sub-1", "styrkort-ledamot")
    assert len(role_trail()) == 1


def test_removed_groups_remove_their_roles_and_roles_given_by_hand(units):
    user = sign_in("sub-1", "styrkort-ledamot", "styrkort-rapportor-div_nara")
    RoleAssignment.objects.create(user=user, role=Role.ANALYST)  # given in the admin
    sign_in("sub-1", "styrkort-ledamot")
    assert roles(user) == {(Role.BOARD_MEMBER, None)}


def test_unknown_groups_and_unknown_org_units_are_ignored(units):
    user = sign_in("sub-1", "styrkort-ledamot", "Alla anställda", "styrkort-chef-div_finns_ej")
    assert roles(user) == {(Role.BOARD_MEMBER, None)}


def test_no_styrkort_group_refuses_a_newcomer_and_creates_nobody(units):
    with pytest.raises(services.SignInRefused):
        sign_in("sub-1", "Alla anställda")
    assert not get_user_model().objects.exists()


def test_refusal_removes_the_roles_and_revokes_the_api_tokens(units):
    user = sign_in("sub-1", "styrkort-chef-div_nara")
    token, _ = create_token(user=user, name="Excel")
    with pytest.raises(services.SignInRefused):
        sign_in("sub-1")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert roles(user) == set()
    revoked = AuditEntry.objects.get(content_type__model="apitoken")
    assert revoked.changes["revoked_at"][0] is None
    assert revoked.reference == "SSO-inloggning, grupper: -"


def test_a_local_user_of_the_same_name_is_taken_over_but_never_the_break_glass_admin(units):
    User = get_user_model()
    local = User.objects.create_user("anna", password="Gammalt-lösen-1")
    assert sign_in("sub-1", "styrkort-ledamot") == local
    User.objects.create_superuser("admin", password="Nödlösenord-12345")
    with pytest.raises(services.SignInRefused, match="local administrator"):
        sign_in("sub-2", "styrkort-admin", preferred_username="admin")


def test_a_user_deactivated_in_styrkort_stays_out(units):
    user = sign_in("sub-1", "styrkort-ledamot")
    user.is_active = False
    user.save()
    with pytest.raises(services.SignInRefused, match="deactivated"):
        sign_in("sub-1", "styrkort-ledamot")


# ---------------------------------------------------------------- through the real provider


def through_provider(client, provider, sub: str):
    """The code flow without a browser: our redirect, the provider's form, our callback."""
    start = client.get("/sso/login/")
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(provider.url + "/oauth2/authorize?")
    answer = requests.post(authorize, data={"sub": sub}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    assert callback.path == "/sso/callback/"
    return client.get(callback.path, parse_qs(callback.query))


def test_sign_in_refused_by_the_groups_revokes_tokens_through_the_real_flow(client, oidc, units):
    oidc.set_user("sub-real", preferred_username="bo", groups=["styrkort-ledamot"])
    response = through_provider(client, oidc, "sub-real")
    assert response.status_code == 302
    assert response["Location"] == "/"
    user = get_user_model().objects.get(username="bo")
    assert roles(user) == {(Role.BOARD_MEMBER, None)}
    create_token(user=user, name="R")
    client.logout()

    oidc.set_user("sub-real", preferred_username="bo", groups=[])
    response = through_provider(client, oidc, "sub-real")
    assert response["Location"] == "/login/?sso=refused"
    assert not ApiToken.objects.filter(user=user, revoked_at__isnull=True).exists()
    page = client.get(response["Location"])
    assert re.search("ingen roll i Styrkort", page.text)
    assert not page.wsgi_request.user.is_authenticated


def test_sso_is_off_by_default(client, db):
    assert client.get("/sso/login/").status_code == 404
    assert client.get("/sso/callback/", {"code": "x", "state": "y"}).status_code == 404
    assert "Logga in med regionens konto" not in client.get("/login/").text


def test_the_daily_check_revokes_tokens_of_users_who_stopped_signing_in(units, settings):
    from datetime import timedelta

    from django.utils import timezone

    from sso.tasks import revoke_tokens_of_absent_users

    gone = sign_in("sub-1", "styrkort-ledamot")
    here = sign_in("sub-2", "styrkort-ledamot", preferred_username="bo")
    old_token, _ = create_token(user=gone, name="Excel")
    new_token, _ = create_token(user=here, name="Excel")
    OidcIdentity.objects.filter(user=gone).update(
        last_sign_in_at=timezone.now() - timedelta(days=31)
    )
    settings.STYRKORT_OIDC_TOKEN_IDLE_DAYS = 0
    assert revoke_tokens_of_absent_users() == 0  # off by default
    settings.STYRKORT_OIDC_TOKEN_IDLE_DAYS = 30
    assert revoke_tokens_of_absent_users() == 1
    old_token.refresh_from_db()
    new_token.refresh_from_db()
    assert old_token.revoked_at is not None and new_token.revoked_at is None
    entry = AuditEntry.objects.get(content_type__model="apitoken")
    assert entry.reference.startswith("Ingen SSO-inloggning sedan")


@pytest.mark.parametrize(
    ("claims", "why"),
    [
        ({"iss": "https://evil.example", "aud": "styrkort"}, "another issuer"),
        ({"iss": ISSUER, "aud": ["other-client"]}, "another client"),
    ],
)
def test_an_id_token_for_another_issuer_or_client_is_refused(settings, monkeypatch, claims, why):
    from django.core.exceptions import SuspiciousOperation
    from mozilla_django_oidc.auth import OIDCAuthenticationBackend

    from sso.backends import OidcBackend

    settings.STYRKORT_OIDC_ISSUER = ISSUER
    settings.OIDC_RP_CLIENT_ID = "styrkort"
    monkeypatch.setattr(OIDCAuthenticationBackend, "verify_token", lambda self, token, **kw: claims)
    with pytest.raises(SuspiciousOperation, match=why):
        OidcBackend().verify_token("token")
    monkeypatch.setattr(
        OIDCAuthenticationBackend,
        "verify_token",
        lambda self, token, **kw: {"iss": ISSUER + "/", "aud": "styrkort"},
    )
    assert OidcBackend().verify_token("token")["aud"] == "styrkort"
