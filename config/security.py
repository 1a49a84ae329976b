"""Hardening that is ours rather than Django's: login throttling and an admin for admins.

The Content-Security-Policy, secure cookies, HSTS and the rest are Django settings
(config/settings.py); this module holds what needs code.
"""

from __future__ import annotations

import math

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts import logins
from divisions.access import is_administrator
from sso.policy import local_password_allowed


def lockout_message(until) -> str:
    """'Försök igen om 5 minuter (kl. 14:35).' in the user's language."""
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    minutes = math.ceil(seconds / 60)
    clock = formats.time_format(timezone.localtime(until), "H:i")
    wait = ngettext(
        "Försök igen om %(count)d minut (kl. %(time)s).",
        "Försök igen om %(count)d minuter (kl. %(time)s).",
        minutes,
    ) % {"count": minutes, "time": clock}
    return _("För många misslyckade inloggningar. %(wait)s") % {"wait": wait}


class ThrottledLoginMixin:
    """Refuse a locked attempt before its password is checked; count failures (per name and
    address, per address, per name: accounts/logins.py); reset on success.

    The form is what both the site's and the admin's login pages use, so both are throttled.
    """

    # The lockout message, for the template to show instead of "wrong password".
    lockout: str = ""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        if username and not local_password_allowed(username):
            # Said plainly, and before the password is checked: it is not a wrong password,
            # and a guess should learn nothing from it either way.
            self.lockout = _("Inloggning med lösenord är avstängd. Logga in med regionens konto.")
            raise forms.ValidationError(self.lockout, code="local_passwords_off")
        attempt = logins.Attempt.from_request(self.request, username)
        until = logins.locked_until(attempt)
        if until is not None:
            self.lockout = lockout_message(until)
            raise forms.ValidationError(self.lockout, code="locked")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if username:
                until = logins.register_failure(attempt)
                if until is not None:
                    self.lockout = lockout_message(until)
                    raise forms.ValidationError(self.lockout, code="locked") from None
            raise
        logins.register_success(attempt)
        return cleaned


class ThrottledAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class ThrottledAdminAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class PrivateNoStoreMiddleware:
    """`Cache-Control: private, no-store` on everything answered to a signed-in user or to
    an API key: scorecards, values and exports must not stay in a shared proxy's cache or
    on the disk of a shared computer. Static files are answered before this (WhiteNoise,
    above in MIDDLEWARE) and keep their own caching."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META:
            patch_cache_control(response, private=True, no_store=True)
        return response


class AdminOnlyForAdministratorsMiddleware:
    """Signed-in users who are not administrators get 403 from /admin/, not its login form.

    Django's admin would show its own login page to them; a clear refusal is better, and
    the permission matrix can then treat the admin like every other write path.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        admin_root = reverse("admin:index")
        user = getattr(request, "user", None)
        if (
            request.path.startswith(admin_root)
            and user is not None
            and user.is_authenticated
            and not (user.is_staff and is_administrator(user))
            and request.path != reverse("admin:logout")
        ):
            raise PermissionDenied("the admin pages are for administrators")
        return self.get_response(request)
