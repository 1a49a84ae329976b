"""Single sign-on in a real browser against a real OpenID provider (issue: "What a region's
IT department needs to run it").

Chromium goes to Styrkort's login page, on to the provider's own login page (a separate
process, tests/sso/provider.py), signs in there and comes back signed in, with the role
and division its directory groups give. A changed group changes the role at the next
sign-in; logging out ends the provider's session too; a user with no Styrkort group left
is refused and their API tokens stop working.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model

from accounts.services import create_token
from audit.models import AuditEntry
from demo.nara import load_demo
from divisions.models import Role, RoleAssignment
from tests.sso.provider import running_provider, sso_switched_on

from .conftest import SCREENSHOTS
from .test_dashboard import axe_violations

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def oidc_provider():
    yield from running_provider()


@pytest.fixture
def oidc(settings, oidc_provider):
    yield from sso_switched_on(settings, oidc_provider)


def sign_in_through_provider(page, provider, sub: str) -> None:
    page.goto("/login/")
    page.click("a.sso-login")
    # The provider's own login page, on its own origin.
    page.wait_for_url(re.compile(re.escape(provider.url) + r"/oauth2/authorize"))
    page.fill("#subject-input", sub)
    page.click("form:has(#subject-input) button[type=submit]")
    page.wait_for_load_state("load")


def log_out_everywhere(page, provider) -> None:
    page.click("form[action='/logout/'] button")
    # RP-initiated logout: the provider's end-session page, told whose session it is.
    page.wait_for_url(
        re.compile(re.escape(provider.url) + r"/oauth2/end_session\?.*id_token_hint=")
    )
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/login/$"))


def roles(username: str) -> set[tuple[str, str | None]]:
    return set(
        RoleAssignment.objects.filter(user__username=username).values_list("role", "org_unit__code")
    )


def test_sign_in_through_the_provider_lands_on_the_division_with_the_role(page, oidc):
    load_demo()
    oidc.set_user(
        "anna-0001",
        preferred_username="anna.chef",
        email="anna.chef@region.example",
        given_name="Anna",
        family_name="Chef",
        groups=["styrkort-chef-div_nara", "unrelated-group"],
    )

    sign_in_through_provider(page, oidc, "anna-0001")
    page.wait_for_url(re.compile(r"/div_nara/"))
    assert page.locator(".site-header__user").inner_text().endswith("Anna Chef")
    # The division manager's own action on the division page.
    assert page.get_by_role("link", name="Rapportera för perioden").is_visible()
    assert roles("anna.chef") == {(Role.DIVISION_MANAGER, "div_nara")}
    page.screenshot(path=SCREENSHOTS / "sso-division-manager.png")
    # No CSP violation on the way (the provider's own page loads a stylesheet from the
    # internet and has no favicon: those errors are its, not ours).
    assert [error for error in page.console_errors if "Content Security Policy" in error] == []

    log_out_everywhere(page, oidc)

    # The directory moves her to the board: the next sign-in says so.
    oidc.set_user(
        "anna-0001",
        preferred_username="anna.chef",
        email="anna.chef@region.example",
        given_name="Anna",
        family_name="Chef",
        groups=["styrkort-ledamot"],
    )
    sign_in_through_provider(page, oidc, "anna-0001")
    page.wait_for_url(re.compile(r"/oversikt/"))
    assert roles("anna.chef") == {(Role.BOARD_MEMBER, None)}
    assert page.get_by_role("link", name="Rapportera för perioden").count() == 0
    trail = AuditEntry.objects.filter(content_type__model="roleassignment").order_by("pk")
    assert [(entry.operation, entry.username) for entry in trail] == [
        ("create", "anna.chef"),
        ("delete", "anna.chef"),
        ("create", "anna.chef"),
    ]
    assert "styrkort-ledamot" in trail.last().reference

    # Out of Styrkort's groups altogether: refused, and the scripts' token stops working.
    user = get_user_model().objects.get(username="anna.chef")
    token, key = create_token(user=user, name="Power BI")
    api = {"Authorization": f"Token {key}"}
    assert page.request.get("/api/v1/org-units/", headers=api).status == 200
    log_out_everywhere(page, oidc)
    oidc.set_user("anna-0001", preferred_username="anna.chef", groups=["unrelated-group"])
    sign_in_through_provider(page, oidc, "anna-0001")
    page.wait_for_url(re.compile(r"/login/\?sso=refused"))
    assert page.locator("[role=alert]").inner_text().startswith("Regionens inloggning godkände")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert roles("anna.chef") == set()
    assert page.request.get("/api/v1/org-units/", headers=api).status == 401
    assert [error for error in page.console_errors if "Content Security Policy" in error] == []
    # The login page with SSO on, and its refusal message, meet WCAG 2.1 AA as the rest do.
    assert axe_violations(page) == []
