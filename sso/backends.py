"""Authentication backends: the region's identity provider, and local passwords.

Built on mozilla-django-oidc (see README, "Single sign-on", for why): its backend does the
code flow, the token request and the ID token's signature and nonce checks; ours decides
who the verified person is in Styrkort (sso.services.sign_in).
"""

from __future__ import annotations

import logging

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from . import provider, services
from .policy import group_map, local_password_allowed

logger = logging.getLogger(__name__)


class LocalPasswordBackend(ModelBackend):
    """Django's password check, for everyone while local passwords are on, and only for the
    break-glass administrators once they are off (STYRKORT_LOCAL_PASSWORDS=0)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and not local_password_allowed(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class OidcBackend(OIDCAuthenticationBackend):
    get_settings = staticmethod(provider.get_setting)

    def __init__(self, *args, **kwargs):
        # Django builds every backend for every authenticate(), the break-glass password
        # login too: reading the provider's endpoints here would make that login fail
        # whenever the provider is down. They are read in authenticate() instead.
        ModelBackend.__init__(self, *args, **kwargs)
        self.UserModel = get_user_model()

    def authenticate(self, request, **kwargs):
        if not (provider.is_enabled() and request is not None and "code" in request.GET):
            return None
        try:
            OIDCAuthenticationBackend.__init__(self)
        except requests.RequestException:
            logger.exception("SSO: the identity provider's discovery document is unreachable")
            return None
        return super().authenticate(request, **kwargs)

    def verify_token(self, token, **kwargs):
        """The library checks signature and nonce; OpenID Connect Core 3.1.3.7 also wants
        the ID token's issuer to be ours and its audience to include this client."""
        payload = super().verify_token(token, **kwargs)
        audience = payload.get("aud")
        audience = [audience] if isinstance(audience, str) else audience or []
        if payload.get("iss", "").rstrip("/") != settings.STYRKORT_OIDC_ISSUER:
            raise SuspiciousOperation("the ID token is from another issuer")
        if settings.OIDC_RP_CLIENT_ID not in audience:
            raise SuspiciousOperation("the ID token is for another client")
        return payload

    def get_or_create_user(self, access_token, id_token, payload):
        claims = dict(payload)
        userinfo = self.get_userinfo(access_token, id_token, payload)
        # OpenID Connect Core 5.3.2: the userinfo response is only this person's if it
        # names the ID token's subject.
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("userinfo is for another subject than the ID token")
        claims.update(userinfo)
        try:
            return services.sign_in(
                issuer=settings.STYRKORT_OIDC_ISSUER,
                claims=claims,
                group_map=group_map(),
                groups_claim=settings.STYRKORT_OIDC_GROUPS_CLAIM,
                username_claim=settings.STYRKORT_OIDC_USERNAME_CLAIM,
                remote_addr=self.request.META.get("REMOTE_ADDR"),
            )
        except services.SignInRefused as refusal:
            logger.warning("SSO sign-in refused: %s", refusal)
            return None
