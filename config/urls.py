from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from scorecard import views as scorecard_views

urlpatterns = [
    path("healthz", scorecard_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("scorecard.urls")),
]

