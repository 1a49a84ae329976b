"""API tokens: created and revoked on the profile page, used by scripts; anonymous gets 401."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.selectors import active_token_for_key
from accounts.services import create_token, hash_key, revoke_token
from tests.sqlite_demo import run_on_demo_database

BASE = "/api/v1"
RESOURCES = [
    "org-units",
    "perspectives",
    "strategic-goals",
    "scorecards",
    "success-factors",
    "indicators",
    "placements",
    "measurements",
    "assessments",
    "perspective-assessments",
    "actions",
]


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user("analys")


def key_on_page(html: str) -> str:
    match = re.search(r'id="new-key" type="text" readonly value="([^"]+)"', html)
    assert match, "the new key is shown on the page"
    return match.group(1)


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_requests_get_401_not_a_login_redirect(client, db, resource):
    response = client.get(f"{BASE}/{resource}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["detail"]


def test_anonymous_csv_request_gets_a_json_401(client, db):
    response = client.get(f"{BASE}/measurements/?format=csv")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"


def test_create_use_and_revoke_a_token_on_the_profile_page(client, user, nara):
    client.force_login(user)
    page = client.get(reverse("accounts:profile"))
    assert page.status_code == 200
    assert "API-nycklar" in page.text

    created = client.post(reverse("accounts:token_create"), {"name": "Power BI"})
    assert created.status_code == 200
    assert "no-store" in created["Cache-Control"]
    key = key_on_page(created.text)
    token = ApiToken.objects.get(user=user)
    assert token.name == "Power BI" and token.prefix == key[:8]
    assert token.key_hash == hash_key(key) and key not in token.key_hash
    # Shown once: the next visit lists the token by its prefix, never the key.
    again = client.get(reverse("accounts:profile")).text
    assert key not in again and token.prefix in again

    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert script.get(f"{BASE}/measurements/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bearer.get(f"{BASE}/org-units/").status_code == 200

    revoked = client.post(reverse("accounts:token_revoke", args=[token.pk]), follow=True)
    assert revoked.status_code == 200
    assert "återkallad" in revoked.text
    token.refresh_from_db()
    assert token.revoked_at is not None
    response = script.get(f"{BASE}/measurements/")
    assert response.status_code == 401


def test_a_user_holds_several_tokens_and_revoking_one_keeps_the_others(user, nara):
    _first, first_key = create_token(user=user, name="R")
    second, second_key = create_token(user=user, name="Excel")
    revoke_token(user=user, token_id=second.pk)
    ok, refused = APIClient(), APIClient()
    ok.credentials(HTTP_AUTHORIZATION=f"Token {first_key}")
    refused.credentials(HTTP_AUTHORIZATION=f"Token {second_key}")
    assert ok.get(f"{BASE}/indicators/").status_code == 200
    assert refused.get(f"{BASE}/indicators/").status_code == 401


def test_nobody_revokes_another_users_token(client, user, db):
    token, _key = create_token(user=user, name="mine")
    other = get_user_model().objects.create_user("annan")
    client.force_login(other)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_token_needs_a_name(client, user):
    client.force_login(user)
    response = client.post(reverse("accounts:token_create"), {"name": " "})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_the_profile_page_needs_a_login(client, db):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    "header", ["Token", "Token a b", "Token nonsense", "Bearer \u00e5\u00e4\u00f6"]
)
def test_bad_or_unknown_keys_get_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get(f"{BASE}/org-units/").status_code == 401


def test_an_inactive_users_token_stops_working(user, db):
    _token, key = create_token(user=user, name="R")
    user.is_active = False
    user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"{BASE}/org-units/").status_code == 401


def test_the_browser_session_works_for_the_api(client, user, nara):
    client.force_login(user)
    assert client.get(f"{BASE}/measurements/").status_code == 200


def test_a_token_is_read_with_its_user_in_one_statement(user, db, django_assert_num_queries):
    token, key = create_token(user=user, name="script")
    with django_assert_num_queries(1):
        found = active_token_for_key(key)
    assert (found.pk, found.user.pk, found.name, found.prefix) == (
        token.pk,
        user.pk,
        "script",
        token.prefix,
    )
    assert found.created_at == ApiToken.objects.get(pk=token.pk).created_at
    revoke_token(user=user, token_id=token.pk)
    assert active_token_for_key(key) is None


def test_a_token_works_on_the_demo_database_sqlite(tmp_path):
    """SQLite hands times back as text: the token's are read as the ORM reads them, so the
    second request (which compares the last use with now) works as the first."""
    script = """
        import json
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0, skip_checks=True)
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient
        from accounts.models import ApiToken
        from accounts.selectors import active_token_for_key
        from accounts.services import create_token

        user = get_user_model().objects.create_superuser("admin")
        token, key = create_token(user=user, name="script")
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        codes = [api.get("/api/v1/indicators/").status_code for _ in range(3)]
        found = active_token_for_key(key)
        print("RESULT" + json.dumps({
            "codes": codes,
            "last_used": type(found.last_used_at).__name__,
            "same": found.last_used_at == ApiToken.objects.get().last_used_at,
            "user": found.user.username,
        }))
        """
    out = run_on_demo_database(script, tmp_path)
    assert out == {"codes": [200, 200, 200], "last_used": "datetime", "same": True, "user": "admin"}
