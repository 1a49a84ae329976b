from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class OrgUnitKind(models.TextChoices):
    REGION = "region", _("Region")
    DIVISION = "division", _("Division")
    AREA = "area", _("Verksamhetsområde")
    UNIT = "unit", _("Enhet")


class OrgUnit(models.Model):
    """A node of the organisation: region > division > area (VO) > unit.

    Units are never deleted when the organisation changes: they get a `valid_to`, so that
    history stays readable under the organisation it belonged to at the time.
    """

    code = models.SlugField(_("kod"), max_length=64, unique=True)
    name = models.CharField(_("namn"), max_length=200)
    kind = models.CharField(_("typ"), max_length=16, choices=OrgUnitKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("överordnad"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of codes ("/region/div/area/") for subtree queries in one
    # indexed prefix match instead of a recursive walk per request.
    path = models.CharField(max_length=600, db_index=True, editable=False)
    valid_from = models.DateField(_("gäller från"), null=True, blank=True)
    valid_to = models.DateField(_("gäller till"), null=True, blank=True)

    class Meta:
        verbose_name = _("organisationsenhet")
        verbose_name_plural = _("organisationsenheter")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gte=F("valid_from")),
                name="orgunit_valid_range",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=False) | Q(kind="region"),
                name="orgunit_only_region_is_root",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    @staticmethod
    def codes_in(path: str) -> list[str]:
        """The codes a materialised path names, region first: '/r/d/a/' -> ['r', 'd', 'a']."""
        return path.strip("/").split("/")

    @property
    def lineage_codes(self) -> list[str]:
        """Codes from the region down to this unit itself."""
        return self.codes_in(self.path)

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes of the units above this one, region first (the unit itself excluded)."""
        return self.lineage_codes[:-1]

    @property
    def lineage_paths(self) -> list[str]:
        """Paths from the region down to this unit: '/r/d/' -> ['/r/', '/r/d/']."""
        codes = self.lineage_codes
        return ["/" + "/".join(codes[: i + 1]) + "/" for i in range(len(codes))]

    def is_within(self, path: str) -> bool:
        """Whether this unit is the unit at `path` or under it ('/' is the whole tree)."""
        return self.path.startswith(path)

    def subtree_q(self, through: str = "") -> Q:
        """Matches this unit and everything under it; `through` leads to the unit from
        the model filtered ("org_unit__")."""
        return Q(**{f"{through}path__startswith": self.path})

    @staticmethod
    def path_under(parent_path: str | None, code: str) -> str:
        """The materialised path of a unit with `code` below the unit at `parent_path`."""
        return f"{parent_path or '/'}{code}/"


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administratör")
    DIVISION_MANAGER = "division_manager", _("Divisionschef")
    REPORTER = "reporter", _("Rapportör")
    BOARD_MEMBER = "board_member", _("Ledamot i regionstyrelsen")
    ANALYST = "analyst", _("Analytiker")


class RoleAssignment(models.Model):
    """A user's role, scoped to an org unit and everything under it (none = whole region)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments"
    )
    role = models.CharField(_("roll"), max_length=32, choices=Role.choices)
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("organisationsenhet"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="role_assignments",
    )

    class Meta:
        verbose_name = _("roll")
        verbose_name_plural = _("roller")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "org_unit"], name="roleassignment_unique"
            ),
            # Managers and reporters write within a subtree: without one they would
            # silently have no scope at all, so the admin must name it.
            models.CheckConstraint(
                condition=~Q(role__in=["division_manager", "reporter"]) | Q(org_unit__isnull=False),
                name="roleassignment_writer_has_scope",
            ),
        ]

    def __str__(self) -> str:
        scope = self.org_unit.name if self.org_unit_id else _("hela regionen")
        return f"{self.user} – {self.get_role_display()} ({scope})"
