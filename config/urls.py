from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from scorecard import views as scorecard_views

urlpatterns = [
    path("healthz", scorecard_views.healthz, name="healthz"),
    # The language switch is on the login page too, so it must work before login.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("scorecard.urls")),
]
