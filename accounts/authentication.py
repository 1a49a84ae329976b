"""API authentication by personal token: `Authorization: Token <key>` (or `Bearer <key>`).

Listed first in REST_FRAMEWORK so that DRF answers an anonymous request with 401 and a
`WWW-Authenticate: Token` header rather than 403.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .selectors import active_token_for_key
from .services import record_use

KEYWORDS = (b"token", b"bearer")


class TokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None  # not ours: the session may still authenticate the request
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _(
                    "Ogiltig Authorization-rubrik: skriv 'Token' och nyckeln, "
                    "åtskilda av ett mellanslag."
                )
            )
        try:
            key = parts[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Ogiltig API-nyckel.")) from None
        token = active_token_for_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Ogiltig eller återkallad API-nyckel."))
        record_use(token)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Documents the token in the OpenAPI schema (and gives Swagger UI its Authorize box)."""

    target_class = TokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`; create keys on your profile page (/konto/).",
        }
