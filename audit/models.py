from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _


class Source(models.TextChoices):
    """Where a change came from."""

    FORM = "form", _("Formulär")
    IMPORT = "import", _("Import")
    API = "api", _("API")
    ADMIN = "admin", _("Administration")
    COMMAND = "command", _("Kommandorad")
    SYSTEM = "system", _("Systemet")


class Operation(models.TextChoices):
    CREATE = "create", _("Skapad")
    UPDATE = "update", _("Ändrad")
    DELETE = "delete", _("Borttagen")
    CLOSE = "close", _("Period stängd")
    REOPEN = "reopen", _("Period öppnad igen")
    SIGN_IN_FAILED = "sign_in_failed", _("Misslyckad inloggning")
    SIGN_IN_LOCKED = "sign_in_locked", _("Inloggning spärrad")


class AuditEntry(models.Model):
    """One recorded change: who, when, what (before and after) and from where.

    Append-only: the app only ever inserts rows (audit.services), the admin grants no add,
    change or delete, and a database trigger refuses UPDATE and DELETE. Rows point at their
    object by content type and id, so the trail outlives a deleted object; the user is
    kept by name as well, and users who made changes cannot be deleted (deactivate them).
    """

    at = models.DateTimeField(_("tidpunkt"), db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("användare"),
    )
    username = models.CharField(_("användarnamn"), max_length=150, blank=True)
    source = models.CharField(_("källa"), max_length=16, choices=Source.choices)
    operation = models.CharField(_("händelse"), max_length=16, choices=Operation.choices)
    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("typ")
    )
    object_id = models.CharField(_("objekt-id"), max_length=64)
    object_repr = models.CharField(_("objekt"), max_length=300)
    org_unit = models.ForeignKey(
        "divisions.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisationsenhet"),
    )
    period = models.CharField(_("period"), max_length=7, blank=True)
    # {"field": [before, after], ...}; values as JSON-safe text/numbers.
    changes = models.JSONField(_("ändringar"), default=dict, blank=True)
    # The import (and row) a change came with, e.g. "import 12, rad 5".
    reference = models.CharField(_("referens"), max_length=200, blank=True)
    remote_addr = models.GenericIPAddressField(_("IP-adress"), null=True, blank=True)

    class Meta:
        verbose_name = _("ändring")
        verbose_name_plural = _("ändringshistorik")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="auditentry_object"),
            models.Index(fields=["org_unit", "period"], name="auditentry_unit_period"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.operation} {self.object_repr}"
