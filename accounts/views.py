"""The user's profile page: their API tokens (create, with the key shown once; revoke)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .forms import TokenForm
from .models import ApiToken
from .selectors import tokens_of
from .services import create_token, revoke_token


def _render(request: HttpRequest, form: TokenForm, new_key: str = "", status: int = 200):
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "tokens": tokens_of(request.user), "new_key": new_key, "nav": "account"},
        status=status,
    )


@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    return _render(request, TokenForm())


@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _render(request, form, status=400)
    _token, key = create_token(user=request.user, name=form.cleaned_data["name"])
    # Rendered, not redirected: the key must not travel in a URL or be stored anywhere.
    response = _render(request, TokenForm(), new_key=key)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = revoke_token(user=request.user, token_id=token_id)
    except ApiToken.DoesNotExist:
        raise Http404("no such token") from None
    messages.success(request, _("Nyckeln ”%(name)s” är återkallad.") % {"name": token.name})
    return redirect("accounts:profile")
