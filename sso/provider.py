"""The OpenID provider's endpoints: from its discovery document unless set explicitly.

mozilla-django-oidc wants every endpoint as a setting (OIDC_OP_AUTHORIZATION_ENDPOINT,
...). An IT department knows the issuer, and providers move their endpoints, so the
endpoints come from `<issuer>/.well-known/openid-configuration`, read on first use and
kept for the life of the process. An OIDC_OP_* variable set in the environment wins (for
a provider without discovery). Reading on first use rather than at import keeps a
provider outage from stopping the app (and the break-glass login) from starting.
"""

from __future__ import annotations

import threading

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from mozilla_django_oidc.utils import import_from_settings

# mozilla-django-oidc setting -> the discovery document's field.
DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
    "STYRKORT_OIDC_END_SESSION_ENDPOINT": "end_session_endpoint",
}

_documents: dict[str, dict] = {}
_lock = threading.Lock()


def is_enabled() -> bool:
    return bool(getattr(settings, "STYRKORT_OIDC_ISSUER", ""))


def discovery(issuer: str) -> dict:
    with _lock:
        if issuer not in _documents:
            url = issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
            # OpenID Connect Discovery 1.0, 4.3: the document must name the issuer it was
            # fetched for, or it is someone else's.
            if document.get("issuer", "").rstrip("/") != issuer.rstrip("/"):
                raise ImproperlyConfigured(
                    f"The discovery document at {url} names issuer "
                    f"{document.get('issuer')!r}, not STYRKORT_OIDC_ISSUER {issuer!r}."
                )
            _documents[issuer] = document
        return _documents[issuer]


def forget_discovery() -> None:
    """For tests that start a new provider under a new address."""
    with _lock:
        _documents.clear()


def get_setting(attr: str, *args):
    """mozilla-django-oidc's `get_settings`, with endpoints filled in from discovery."""
    if attr in DISCOVERED and not getattr(settings, attr, None) and is_enabled():
        value = discovery(settings.STYRKORT_OIDC_ISSUER).get(DISCOVERED[attr])
        if value:
            return value
    return import_from_settings(attr, *args)
