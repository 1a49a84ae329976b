from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OidcIdentity(models.Model):
    """Which directory identity (the provider's `sub`) a Styrkort user is.

    Users are found by subject, not by e-mail or user name: those change (marriage, a new
    address), the subject does not, and matching on them could hand one person's account
    to another.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="oidc_identity",
        verbose_name=_("användare"),
    )
    issuer = models.CharField(_("utfärdare"), max_length=255)
    subject = models.CharField(_("subjekt"), max_length=255)
    last_sign_in_at = models.DateTimeField(_("senaste inloggning"), null=True, blank=True)
    # The groups of the last sign-in, to show the administrator why someone has a role.
    groups = models.JSONField(_("grupper"), default=list, blank=True)

    class Meta:
        verbose_name = _("SSO-identitet")
        verbose_name_plural = _("SSO-identiteter")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidcidentity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.subject})"
