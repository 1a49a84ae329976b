from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import views

# Both run before anyone is signed in (LoginRequiredMiddleware would loop otherwise).
urlpatterns = [
    path("login/", login_not_required(views.SignInView.as_view()), name="oidc_authentication_init"),
    path(
        "callback/",
        login_not_required(views.CallbackView.as_view()),
        name="oidc_authentication_callback",
    ),
]
