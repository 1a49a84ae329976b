"""`create_api_key`: a key from the command line, as the README's API examples get one."""

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from accounts.models import ApiToken

pytestmark = pytest.mark.django_db


def test_prints_a_key_that_opens_the_api(client):
    user = User.objects.create_user("skript")
    out = io.StringIO()
    call_command("create_api_key", "skript", "--name", "nattlig export", stdout=out)
    key = out.getvalue().strip()
    assert ApiToken.objects.get(user=user).name == "nattlig export"
    assert client.get("/api/v1/org-units/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    assert client.get("/api/v1/org-units/", HTTP_AUTHORIZATION="Token wrong").status_code == 401


def test_refuses_an_unknown_or_inactive_user():
    User.objects.create_user("slutat", is_active=False)
    for name in ("finns-inte", "slutat"):
        with pytest.raises(CommandError, match=name):
            call_command("create_api_key", name)
    assert not ApiToken.objects.exists()
