from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


def validate_settings(settings) -> None:
    """Refuse a half-configured SSO, and a malformed group mapping, when Django starts,
    with the setting and the reason: not at the first sign-in, or never, when a typo
    silently grants nothing (or too much)."""
    from . import mapping

    if settings.STYRKORT_OIDC_ISSUER:
        missing = [
            name
            for name, value in (
                ("STYRKORT_OIDC_CLIENT_ID", settings.OIDC_RP_CLIENT_ID),
                ("STYRKORT_OIDC_CLIENT_SECRET", settings.OIDC_RP_CLIENT_SECRET),
                ("STYRKORT_OIDC_GROUP_MAP", settings.STYRKORT_OIDC_GROUP_MAP.strip()),
            )
            if not value
        ]
        if missing:
            raise ImproperlyConfigured(
                f"STYRKORT_OIDC_ISSUER is set, so single sign-on is on, but {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} empty (README, 'Single sign-on')."
            )
    mapping.parse_group_map(settings.STYRKORT_OIDC_GROUP_MAP)


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = _("Inloggning via regionens konto (SSO)")

    def ready(self) -> None:
        from django.conf import settings

        from divisions.models import Role

        from . import mapping

        assert set(mapping.ROLES) == set(Role.values), "sso.mapping.ROLES is out of date"
        validate_settings(settings)
