"""Sign-in limits that slow an attacker without locking the owner out.

Three counts of failed passwords, each over STYRKORT_LOGIN_LOCK_SECONDS, kept in the shared
rate state (accounts/rates.py: Redis, keys that expire by themselves, so the state stays
bounded whatever names and addresses an attacker sends):

- per user name and address (STYRKORT_LOGIN_MAX_FAILURES, default 5): guessing one
  account from one address locks that pair only. The owner at another address still
  signs in, so five anonymous wrong passwords no longer lock the administrator for all.
- per address (STYRKORT_LOGIN_MAX_FAILURES_PER_ADDRESS, default 20): password spraying,
  a few guesses at many names, locks the address. IPv6 addresses count per /64, which
  one client usually holds whole.
- per user name, from all addresses (STYRKORT_LOGIN_MAX_FAILURES_PER_ACCOUNT, default
  50): a guess from many addresses. This lock holds only for browsers that have not
  signed in to that account before: a successful sign-in leaves a signed cookie naming
  the account (a "device cookie"), and with it the owner's own browser still gets in.

Every failure and every lock that starts is written to the audit trail (attempts refused
while a lock holds are not: that would let a locked-out client grow the trail at will).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.http import HttpRequest, HttpResponse

from audit.models import Operation
from audit.services import record_sign_in_event

from . import rates

DEVICE_COOKIE = "styrkort_device"
DEVICE_SALT = "styrkort.accounts.device"
DEVICE_DAYS = 180
DEVICE_NAMES = 10  # accounts one browser remembers (the newest)


def _name(username: str) -> str:
    return (username or "").strip().lower()[:150]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def client_address(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or behind a trusted proxy (nginx) the address
    that proxy saw, the last one in X-Forwarded-For not itself a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    trusted = _trusted_proxies()
    if not trusted or not _in(remote, trusted):
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for address in reversed([part for part in forwarded if part]):
        if not _in(address, trusted):
            return address if _valid(address) else remote
    return remote


def _trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(net, strict=False) for net in settings.STYRKORT_TRUSTED_PROXIES]


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _address_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64] or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class Attempt:
    """One sign-in attempt: the name tried, from where, and whether this browser has
    signed in to that account before (its device cookie)."""

    username: str
    address: str
    trusted_device: bool = False

    @classmethod
    def from_request(cls, request: HttpRequest | None, username: str) -> Attempt:
        if request is None:  # a form used outside a request: no address, no cookie
            return cls(username=username, address="")
        return cls(
            username=username,
            address=client_address(request),
            trusted_device=_digest(_name(username)) in _device_names(request),
        )

    @property
    def pair_key(self) -> str:
        return f"login:pair:{_digest(_name(self.username))}:{_address_key(self.address)}"

    @property
    def address_key(self) -> str:
        return f"login:address:{_address_key(self.address)}"

    @property
    def account_key(self) -> str:
        return f"login:account:{_digest(_name(self.username))}"


def _rate(limit: int) -> rates.Rate:
    return rates.Rate(limit=limit, seconds=settings.STYRKORT_LOGIN_LOCK_SECONDS)


def _scopes(attempt: Attempt) -> list[tuple[str, str, int]]:
    """(scope, key, limit) of the counts this attempt is held to."""
    scopes = [
        ("address", attempt.address_key, settings.STYRKORT_LOGIN_MAX_FAILURES_PER_ADDRESS),
        ("name_and_address", attempt.pair_key, settings.STYRKORT_LOGIN_MAX_FAILURES),
    ]
    if not attempt.trusted_device:
        scopes.append(
            ("name", attempt.account_key, settings.STYRKORT_LOGIN_MAX_FAILURES_PER_ACCOUNT)
        )
    return scopes


def _as_datetime(timestamp: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def locked_until(attempt: Attempt) -> datetime.datetime | None:
    """When this attempt may be made, or None if it may be made now."""
    ends = [rates.locked_until(key) for _scope, key, _limit in _scopes(attempt)]
    ends = [end for end in ends if end is not None]
    return _as_datetime(max(ends)) if ends else None


def register_failure(attempt: Attempt) -> datetime.datetime | None:
    """Count a wrong password in every scope; returns the lock's end when this failure
    starts a lock. Each failure and each new lock goes to the audit trail."""
    user = _user_named(attempt.username)
    record_sign_in_event(
        operation=Operation.SIGN_IN_FAILED,
        username=attempt.username,
        user=user,
        address=attempt.address,
        changes={"address": [None, attempt.address]},
    )
    seconds = settings.STYRKORT_LOGIN_LOCK_SECONDS
    until = None
    for scope, key, limit in _scopes(attempt):
        rate = _rate(limit)
        if rates.add(key, rate) < limit:
            continue
        # The count starts afresh after the lock: another full round of guesses relocks.
        rates.forget(key, rate)
        end = _as_datetime(rates.lock(key, seconds))
        until = max(until, end) if until else end
        record_sign_in_event(
            operation=Operation.SIGN_IN_LOCKED,
            username=attempt.username,
            user=user,
            address=attempt.address,
            changes={"scope": [None, scope], "locked_until": [None, end.isoformat()]},
        )
    return until


def register_success(attempt: Attempt) -> None:
    """The right password: this name's count at this address starts afresh. The counts of
    the address and of the name from everywhere stay (a success must not buy new guesses)."""
    rates.forget(attempt.pair_key, _rate(settings.STYRKORT_LOGIN_MAX_FAILURES))


def _user_named(username: str):
    User = get_user_model()
    return User.objects.filter(username__iexact=_name(username)).first()


# ------------------------------------------------------------------------ device cookie


def _device_names(request: HttpRequest) -> list[str]:
    value = request.COOKIES.get(DEVICE_COOKIE)
    if not value:
        return []
    try:
        names = signing.loads(value, salt=DEVICE_SALT, max_age=DEVICE_DAYS * 86400)
    except signing.BadSignature:
        return []
    return [str(name) for name in names] if isinstance(names, list) else []


def remember_device(request: HttpRequest, response: HttpResponse, username: str) -> None:
    """Mark this browser as one that has signed in to `username` (see the module's text)."""
    # Digests, not names: the cookie need not tell anyone which accounts it stands for.
    own = _digest(_name(username))
    names = [own, *(name for name in _device_names(request) if name != own)][:DEVICE_NAMES]
    response.set_cookie(
        DEVICE_COOKIE,
        signing.dumps(names, salt=DEVICE_SALT),
        max_age=DEVICE_DAYS * 86400,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
