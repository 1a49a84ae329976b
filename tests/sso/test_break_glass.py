"""Local passwords switched off for everyone but the break-glass administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import AuditEntry, Operation

PASSWORD = "Rätt-lösenord-2022"


@pytest.fixture
def users(db):
    User = get_user_model()
    return {
        "admin": User.objects.create_superuser("admin", password=PASSWORD),
        "chef": User.objects.create_user("chef.nara", password=PASSWORD),
    }


@pytest.fixture
def passwords_off(settings):
    settings.STYRKORT_LOCAL_PASSWORDS = False
    settings.STYRKORT_BREAK_GLASS_USERS = ["admin"]


def log_in(client, username: str, path: str = "/login/"):
    return client.post(path, {"username": username, "password": PASSWORD})


def test_with_local_passwords_on_everyone_signs_in_as_before(client, users):
    assert log_in(client, "chef.nara").status_code == 302


def test_local_login_is_refused_for_others_with_a_clear_message(client, users, passwords_off):
    response = log_in(client, "chef.nara")
    assert response.status_code == 200
    assert "Inloggning med lösenord är avstängd" in response.text
    assert not response.wsgi_request.user.is_authenticated
    # The right password is not checked, and the refusal is not a failed guess either.
    assert not AuditEntry.objects.filter(operation=Operation.SIGN_IN_FAILED).exists()


def test_the_admin_login_page_refuses_them_too(client, users, passwords_off):
    response = log_in(client, "chef.nara", "/admin/login/")
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_the_break_glass_admin_still_signs_in(client, users, passwords_off):
    response = log_in(client, "admin")
    assert response.status_code == 302
    assert response.wsgi_request.user.username == "admin"
    assert client.get("/admin/").status_code == 200


def test_the_login_page_offers_the_regions_account_and_names_the_emergency_form(
    client, db, oidc, passwords_off
):
    page = client.get("/login/?next=/oversikt/").text
    assert 'href="/sso/login/?next=/oversikt/"' in page
    assert "Nödinloggning för administratör" in page


def test_logout_after_a_password_login_stays_with_us(client, users, oidc):
    log_in(client, "admin")
    assert client.post("/logout/")["Location"] == "/login/"


def test_with_the_provider_down_sso_says_so_and_the_break_glass_admin_gets_in(
    client, users, settings, passwords_off
):
    from sso.provider import forget_discovery

    from .provider import free_port

    forget_discovery()
    settings.STYRKORT_OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"  # nobody listens
    settings.OIDC_RP_CLIENT_ID = "styrkort"
    response = client.get("/sso/login/")
    assert response["Location"] == "/login/?sso=unavailable"
    assert "svarar inte just nu" in client.get(response["Location"]).text
    assert log_in(client, "admin").status_code == 302


def test_logout_goes_to_the_providers_end_session_with_the_id_token(rf, settings, users):
    from django.contrib.sessions.backends.db import SessionStore

    from sso.views import provider_logout_url

    settings.STYRKORT_OIDC_ISSUER = "https://login.region.example"
    settings.OIDC_RP_CLIENT_ID = "styrkort"
    settings.STYRKORT_OIDC_END_SESSION_ENDPOINT = "https://login.region.example/logout"
    request = rf.post("/logout/")
    request.session = SessionStore()
    assert provider_logout_url(request) == "/login/"  # a password login: no id token
    request.session["oidc_id_token"] = "eyJ.token"
    assert provider_logout_url(request) == (
        "https://login.region.example/logout?id_token_hint=eyJ.token&client_id=styrkort"
        "&post_logout_redirect_uri=http%3A%2F%2Ftestserver%2Flogin%2F"
    )
    settings.STYRKORT_OIDC_END_SESSION_ENDPOINT = ""
    settings.STYRKORT_OIDC_ISSUER = ""
    assert provider_logout_url(request) == "/login/"
