"""Local passwords switched off for everyone but the break-glass administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from audit.models import LoginLock

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
    assert not LoginLock.objects.filter(failures__gt=0).exists()


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
