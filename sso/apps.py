from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("Inloggning via regionens konto (SSO)")

    def ready(self) -> None:
        # A malformed group mapping stops the app at start, with the rule and the reason,
        # rather than at the first sign-in (or never, when it silently grants nothing).
        from django.conf import settings

        from divisions.models import Role

        from . import mapping

        assert set(mapping.ROLES) == set(Role.values), "sso.mapping.ROLES is out of date"
        mapping.parse_group_map(settings.STYRKORT_OIDC_GROUP_MAP)
