"""Sign-in limits (issue 11, finding 5): an attacker is slowed per name and address, per
address and per name from everywhere, and the owner is not locked out; the state is in
Redis with an expiry; every failure and lock is in the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.urls import reverse

from accounts.logins import DEVICE_COOKIE
from audit.models import AuditEntry, Operation

PASSWORD = "Rätt-lösenord-2022"
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser("admin", password=PASSWORD)


def log_in(client, username: str, password: str, address: str, **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **extra
    )


def signed_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def test_five_anonymous_wrong_passwords_do_not_lock_the_admin_out(client, admin, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 5
    for _ in range(5):
        assert not signed_in(log_in(client, "admin", "gissning", ATTACKER))
    # The guesser's address is locked for this name, even with the right password ...
    refused = log_in(client, "admin", PASSWORD, ATTACKER)
    assert refused.status_code == 200 and "Försök igen om" in refused.text
    # ... but the owner, at another address and in another browser, signs in.
    owner = client.__class__()
    assert signed_in(log_in(owner, "admin", PASSWORD, OWNER))


def test_spraying_one_password_over_many_names_locks_the_address(client, admin, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES_PER_ADDRESS = 6
    for number in range(6):
        log_in(client, f"person{number}", "Sommar2022!", ATTACKER)
    # The address is locked for every name: the admin's right password is not even tried.
    response = log_in(client, "admin", PASSWORD, ATTACKER)
    assert response.status_code == 200 and "Försök igen om" in response.text
    assert signed_in(log_in(client.__class__(), "admin", PASSWORD, OWNER))


def test_ipv6_addresses_count_per_64_network(client, admin, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES_PER_ADDRESS = 4
    for host in range(4):  # a new address of the same /64 for every guess
        log_in(client, f"person{host}", "fel", f"2001:db8:1:2::{host + 1}")
    response = log_in(client, "admin", PASSWORD, "2001:db8:1:2::99")
    assert "Försök igen om" in response.text
    assert signed_in(log_in(client.__class__(), "admin", PASSWORD, "2001:db8:1:3::1"))


def test_guesses_from_many_addresses_lock_the_name_but_not_the_owners_browser(
    client, admin, settings
):
    settings.STYRKORT_LOGIN_MAX_FAILURES_PER_ACCOUNT = 8
    owner = client.__class__()
    assert signed_in(log_in(owner, "admin", PASSWORD, OWNER))  # the browser is now known
    assert DEVICE_COOKIE in owner.cookies
    owner.post(reverse("logout"))
    for number in range(8):  # one guess from each of many addresses
        log_in(client.__class__(), "admin", "gissning", f"192.0.2.{number + 1}")
    # A browser that never signed in to the account is refused, from any address ...
    stranger = log_in(client.__class__(), "admin", PASSWORD, "192.0.2.200")
    assert "Försök igen om" in stranger.text
    # ... while the owner's browser gets in, even from an address it never used.
    assert signed_in(log_in(owner, "admin", PASSWORD, "192.0.2.201"))


def test_a_forged_device_cookie_does_not_help(client, admin, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES_PER_ACCOUNT = 3
    for number in range(3):
        log_in(client.__class__(), "admin", "gissning", f"192.0.2.{number + 1}")
    client.cookies[DEVICE_COOKIE] = "admin"
    assert "Försök igen om" in log_in(client, "admin", PASSWORD, "192.0.2.50").text


def test_every_failure_and_lock_is_in_the_audit_trail(client, admin, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 3
    for _ in range(3):
        log_in(client, "Admin", "gissning", ATTACKER)
    log_in(client, "admin", PASSWORD, ATTACKER)  # refused while locked: not a failure
    failures = AuditEntry.objects.filter(operation=Operation.SIGN_IN_FAILED)
    assert failures.count() == 3
    entry = failures.first()
    assert (entry.object_id, entry.username, entry.remote_addr) == (
        str(admin.pk),
        "Admin",
        ATTACKER,
    )
    assert entry.user is None  # nobody was signed in
    (lock,) = AuditEntry.objects.filter(operation=Operation.SIGN_IN_LOCKED)
    assert lock.changes["scope"] == [None, "name_and_address"]
    assert lock.remote_addr == ATTACKER and lock.object_id == str(admin.pk)
    # A name that does not exist is recorded too, without an object.
    log_in(client.__class__(), "ingen.sadan", "x", OWNER)
    unknown = AuditEntry.objects.filter(operation=Operation.SIGN_IN_FAILED, username="ingen.sadan")
    assert unknown.get().object_id == ""


def test_the_rate_state_is_in_redis_and_expires(client, db, settings):
    settings.STYRKORT_LOGIN_LOCK_SECONDS = 900
    for number in range(30):  # many names, many addresses: every key goes by itself
        log_in(client, f"namn{number}", "fel", f"192.0.2.{number}")
    cache = caches["rates"]
    redis = cache._cache.get_client(write=True)
    keys = list(redis.scan_iter(match=cache.make_key("login:*")))
    assert len(keys) >= 30
    assert all(0 < redis.ttl(key) <= 2 * 900 + 61 for key in keys)


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(client, admin, settings):
    settings.STYRKORT_LOGIN_MAX_FAILURES = 2
    # Not trusted: a client cannot escape its count by making up addresses.
    for number in range(2):
        log_in(client, "admin", "fel", ATTACKER, HTTP_X_FORWARDED_FOR=f"10.9.9.{number}")
    assert "Försök igen om" in log_in(client, "admin", PASSWORD, ATTACKER).text
    # Behind nginx (trusted) the client is the address nginx added last.
    settings.STYRKORT_TRUSTED_PROXIES = ["127.0.0.0/8"]
    for _ in range(2):
        log_in(client, "admin", "fel", "127.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.4, {OWNER}")
    behind = client.__class__()
    refused = log_in(behind, "admin", PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR=OWNER)
    assert "Försök igen om" in refused.text
    other = log_in(behind, "admin", PASSWORD, "127.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9")
    assert signed_in(other)
