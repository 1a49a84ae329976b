"""The columns of the large CSV exports as PostgreSQL writes them (api.copy_csv).

They are the generic writer's columns in the same order: the measurement exchange format
(domain.exchange.format.HEADER) and AssessmentSerializer's fields.
"""

from django.db.models import Case, F, Q, When

from api.copy_csv import DECIMAL, INTEGER, JSON, TIMESTAMP, Column

MEASUREMENT_COLUMNS = (
    Column("indicator", "indicator__code"),
    Column("org_unit", "org_unit__code"),
    Column("period", "period"),
    Column("breakdown", "breakdown"),
    Column("value", "value", DECIMAL),
    Column("numerator", "numerator", DECIMAL),
    Column("denominator", "denominator", DECIMAL),
    Column("comment", "comment"),
)

ASSESSMENT_COLUMNS = (
    Column("id", "id", INTEGER),
    Column("indicator", "indicator__code"),
    Column("org_unit", "org_unit__code"),
    Column("perspective", "perspective_code"),
    Column("placement", "placement_id", INTEGER),
    Column("period", "period"),
    # domain.rules.status_after_override: the manual status where set (it always has its
    # reason: the services refuse one without).
    Column(
        "status",
        Case(When(~Q(override_status=""), then=F("override_status")), default=F("computed_status")),
    ),
    Column("computed_status", "computed_status"),
    Column("override_status", "override_status"),
    Column("override_comment", "override_comment"),
    Column("override_by", "override_by__username"),
    Column("trend", "trend"),
    Column("details", "details", JSON),
    Column("analysis", "analysis"),
    Column("computed_at", "computed_at", TIMESTAMP),
)
