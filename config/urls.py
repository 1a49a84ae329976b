from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from config.metrics import metrics_view
from config.security import ThrottledAdminAuthenticationForm, ThrottledAuthenticationForm
from dashboard import views as dashboard_views
from sso import views as sso_views

# The admin's login is throttled like the site's (config/security.py).
admin.site.login_form = ThrottledAdminAuthenticationForm

urlpatterns = [
    path("healthz", dashboard_views.healthz, name="healthz"),
    path("metrics", metrics_view, name="metrics"),
    path("favicon.ico", dashboard_views.favicon, name="favicon"),
    # The language switch is on the login page too, so it must work before login.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path(
        "login/",
        sso_views.LoginView.as_view(authentication_form=ThrottledAuthenticationForm),
        name="login",
    ),
    # Django's logout, then the identity provider's (RP-initiated logout) after an SSO login.
    path("logout/", sso_views.LogoutView.as_view(), name="logout"),
    path("sso/", include("sso.urls")),
    path("", include("reporting.urls")),
    path("", include("dashboard.history_urls")),
    path("api/", include("api.urls")),
    path("konto/", include("accounts.urls")),
    path("", include("indicators.urls")),
    path("", include("dashboard.urls")),
]

# Errors outside a view answer JSON under /api/ (config/errors.py), pages elsewhere.
handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.page_not_found"
handler500 = "config.errors.server_error"
