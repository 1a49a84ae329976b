"""The sign-in, callback and logout endpoints of single sign-on.

Thin subclasses of mozilla-django-oidc's views: endpoints from discovery (sso.provider),
404 while SSO is off, and a refusal that lands on the login page with a reason.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from accounts import logins

from . import provider

logger = logging.getLogger(__name__)


# Why the login page was shown again after a trip to the provider (?sso=...).
SSO_MESSAGES = {
    "refused": _(
        "Regionens inloggning godkände dig, men du har ingen roll i Styrkort. "
        "Kontakta din chef eller IT-avdelningen om du behöver behörighet."
    ),
    "unavailable": _("Regionens inloggning svarar inte just nu. Försök igen om en stund."),
}


def login_with(reason: str) -> str:
    return f"{reverse('login')}?{urlencode({'sso': reason})}"


class LoginView(auth_views.LoginView):
    """The login page: a button for the region's account when SSO is on, the password
    form below it (for everyone, or the break-glass administrator only)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_enabled"] = provider.is_enabled()
        context["local_passwords"] = settings.STYRKORT_LOCAL_PASSWORDS
        context["sso_message"] = SSO_MESSAGES.get(self.request.GET.get("sso", ""), "")
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        # This browser now knows the password: a lock on the name from everywhere (a guess
        # from many addresses) does not hold for it (accounts/logins.py).
        logins.remember_device(self.request, response, form.get_user().get_username())
        return response


class SignInView(OIDCAuthenticationRequestView):
    """Sends the browser to the provider's login page."""

    get_settings = staticmethod(provider.get_setting)

    def __init__(self, **kwargs):
        # The parent reads the endpoint here, before setup() can answer 404 or a provider
        # outage can be caught: get() reads it instead.
        View.__init__(self, **kwargs)
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    def setup(self, request, *args, **kwargs):
        if not provider.is_enabled():
            raise Http404("single sign-on is not configured")
        super().setup(request, *args, **kwargs)

    def get(self, request):
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider.get_setting("OIDC_OP_AUTHORIZATION_ENDPOINT")
        except requests.RequestException:
            logger.exception("SSO: the identity provider's discovery document is unreachable")
            return HttpResponseRedirect(login_with("unavailable"))
        return super().get(request)


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(provider.get_setting)

    def setup(self, request, *args, **kwargs):
        if not provider.is_enabled():
            raise Http404("single sign-on is not configured")
        super().setup(request, *args, **kwargs)

    @property
    def failure_url(self) -> str:
        return login_with("refused")


def provider_logout_url(request) -> str:
    """Where logout sends the browser: the provider's end-session endpoint (OpenID Connect
    RP-Initiated Logout 1.0) when it has one and the session came from it, so that the
    provider's session ends too; else the login page."""
    local = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get("oidc_id_token")
    if not (provider.is_enabled() and id_token):
        return local
    try:
        end_session = provider.get_setting("STYRKORT_OIDC_END_SESSION_ENDPOINT", "")
    except requests.RequestException:
        logger.exception("SSO: no end-session endpoint, the provider is unreachable")
        return local
    if not end_session:
        return local
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(local),
        }
    )
    return f"{end_session}?{query}"


class LogoutView(auth_views.LogoutView):
    """Django's logout, then on to the provider's logout where there is one."""

    def post(self, request, *args, **kwargs):
        target = import_string(settings.OIDC_OP_LOGOUT_URL_METHOD)(request)
        response = super().post(request, *args, **kwargs)
        if target != resolve_url(settings.LOGOUT_REDIRECT_URL):
            return HttpResponseRedirect(target)
        return response
