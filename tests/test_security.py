"""Hardening: the deploy check, security headers and CSP, login throttling, error pages."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Rätt-lösenord-2022"


def test_check_deploy_passes_with_production_settings():
    """`manage.py check --deploy` with the production settings module and a real-looking env."""
    env = {
        key: value
        for key, value in os.environ.items()
        # Test-process settings are not production's (the browser tests set the async one).
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        and not key.startswith(("SESSION_", "CSRF_", "SECURE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="styrkort.example.se",
        CSRF_TRUSTED_ORIGINS="https://styrkort.example.se",
        DATABASE_URL=os.environ.get("DATABASE_URL", "postgres://127.0.0.1:5432/styrkort"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_no_secret_in_the_repository():
    """Settings read secrets from the environment; the example env holds placeholders only."""
    settings_text = (ROOT / "config" / "settings.py").read_text(encoding="utf-8")
    assert re.search(r"SECRET_KEY\s*=\s*os\.environ", settings_text)
    example = (ROOT / "deploy" / "env.example").read_text(encoding="utf-8")
    for line in example.splitlines():
        if line.startswith(("SECRET_KEY=", "POSTGRES_PASSWORD=")):
            assert "change-me" in line, line


# ----------------------------------------------------------------------------- headers


@pytest.fixture
def login_page(client, db):
    return client.get(reverse("login"))


def test_security_headers(login_page):
    headers = login_page.headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_content_security_policy_allows_no_inline_script(login_page):
    policy = login_page.headers["Content-Security-Policy"]
    directives = dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in policy.split(";") if part.strip()
    )
    assert directives["script-src"] == "'self'"
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"


def test_login_page_has_no_inline_script_or_style(login_page):
    html = login_page.text
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no onclick= and the like


def test_cookies_are_secure_and_sessions_expire(settings):
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    assert settings.SESSION_COOKIE_HTTPONLY
    assert settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    assert settings.SECURE_HSTS_SECONDS >= 31536000


def test_errors_show_no_stack_trace(client, db, settings):
    assert settings.DEBUG is False
    client.raise_request_exception = False
    # A page that does not exist and a failing view: neither shows Django's debug page.
    response = client.get("/finns-inte/")
    assert response.status_code in (302, 404)  # login first, then 404
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Traceback" not in response.content and b"Something went wrong" not in (
        response.content
    )
    assert "Något gick fel".encode() in response.content


# ----------------------------------------------------------------------------- passwords


@pytest.mark.parametrize("password", ["kort", "1234567890123", "password123", "styrkort"])
def test_password_rules_refuse_weak_passwords(db, password):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = get_user_model()(username="styrkort")
    with pytest.raises(ValidationError):
        validate_password(password, user)


# ----------------------------------------------------------------------------- throttling


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(username="anna", password=PASSWORD)


def _login(client, password: str, username: str = "anna"):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_wrong_passwords_lock_the_user_out_then_the_wait_lets_them_in(
    client, user, settings, clock
):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 3
    settings.STYRKORT_LOGIN_LOCK_SECONDS = 2
    for _ in range(2):
        response = _login(client, "fel-lösenord")
        assert response.status_code == 200
        assert "Fel användarnamn eller lösenord" in response.text
    response = _login(client, "fel-lösenord")  # the third failure locks
    assert "För många misslyckade inloggningar" in response.text
    assert re.search(r"Försök igen om 1 minut \(kl\. \d\d:\d\d\)", response.text)
    # Locked: even the right password is refused, and no session is made.
    response = _login(client, PASSWORD)
    assert response.status_code == 200 and "Försök igen om" in response.text
    assert "_auth_user_id" not in client.session
    clock.advance(2.2)  # the lock's 2 s run out (Django's clock, not a sleep)
    response = _login(client, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_lockout_is_per_user_name_and_case_blind(client, user, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 2
    _login(client, "fel", username="ANNA")
    _login(client, "fel", username="anna")
    assert "Försök igen om" in _login(client, PASSWORD).text
    other = get_user_model().objects.create_user(username="bertil", password=PASSWORD)
    assert _login(client, PASSWORD, username=other.username).status_code == 302


def test_a_success_starts_the_count_afresh(client, user, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 3
    _login(client, "fel")
    _login(client, "fel")
    assert _login(client, PASSWORD).status_code == 302
    client.post(reverse("logout"))
    _login(client, "fel")
    _login(client, "fel")
    assert _login(client, PASSWORD).status_code == 302  # four failures, never three in a row


def test_the_admin_login_is_throttled_too(client, db, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 2
    get_user_model().objects.create_superuser(username="root", password=PASSWORD)
    for _ in range(2):
        client.post(reverse("admin:login"), {"username": "root", "password": "fel"})
    response = client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    assert response.status_code == 200
    assert "Försök igen om" in response.text
