from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdmin, ReadOnlyAdmin

from .closing import ensure_open, is_closed
from .models import (
    Action,
    PeriodClose,
    Perspective,
    PerspectiveAssessment,
    ReminderSent,
    ReportingDeadline,
    Scorecard,
    StrategicGoal,
    SuccessFactor,
)


class PeriodAwareAdmin(AuditedAdmin):
    """An audited admin that respects closed periods.

    Objects with an org unit and a period are read-only while their period is closed, and
    a save or delete that would touch a closed period is refused by ensure_open.
    """

    def is_frozen(self, obj) -> bool:
        unit = getattr(obj, "org_unit", None)
        period = getattr(obj, "period", None)
        return bool(unit is not None and period and is_closed(unit, period))

    def ensure_changeable(self, obj) -> None:
        if getattr(obj, "org_unit_id", None) and getattr(obj, "period", None):
            ensure_open(obj.org_unit, obj.period)


@admin.register(Perspective)
class PerspectiveAdmin(PeriodAwareAdmin):
    list_display = ["order", "code", "name"]
    list_display_links = ["code", "name"]
    search_fields = ["code", "name"]
    ordering = ["order"]


@admin.register(StrategicGoal)
class StrategicGoalAdmin(PeriodAwareAdmin):
    list_display = ["code", "name", "perspective", "order"]
    list_filter = ["perspective"]
    search_fields = ["code", "name"]
    list_select_related = ["perspective"]


class ReadOnlyInline(admin.TabularInline):
    """Related rows listed to read, each edited on its own page (where its write is audited)."""

    extra = 0
    show_change_link = True
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class SuccessFactorInline(ReadOnlyInline):
    """A scorecard's success factors."""

    model = SuccessFactor
    fields = ["code", "name", "strategic_goal", "order"]


@admin.register(Scorecard)
class ScorecardAdmin(PeriodAwareAdmin):
    """Scorecards come from `load_scorecard FILE`: here their name is edited, and what they
    hold is read. Whose and which year is fixed, since the targets follow both."""

    list_display = ["org_unit", "year", "name", "source", "loaded_at"]
    list_filter = ["year", ("org_unit", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "^org_unit__code", "org_unit__name", "=year"]
    list_select_related = ["org_unit"]
    readonly_fields = ["org_unit", "year", "source", "loaded_at"]
    fields = ["org_unit", "year", "name", "source", "loaded_at"]
    inlines = [SuccessFactorInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        # Its placements and success factors would go with it: load another file instead.
        return False


@admin.register(SuccessFactor)
class SuccessFactorAdmin(PeriodAwareAdmin):
    list_display = ["code", "name", "scorecard", "strategic_goal", "order"]
    list_filter = ["strategic_goal__perspective", "scorecard__year"]
    search_fields = [
        "code",
        "name",
        "strategic_goal__code",
        "strategic_goal__name",
        "^scorecard__org_unit__code",
    ]
    autocomplete_fields = ["scorecard", "strategic_goal"]
    list_select_related = ["strategic_goal", "scorecard__org_unit"]


@admin.register(PerspectiveAssessment)
class PerspectiveAssessmentAdmin(PeriodAwareAdmin):
    list_display = ["org_unit", "perspective", "period", "status", "updated_by", "updated_at"]
    list_filter = ["perspective", "status", "period"]
    search_fields = ["org_unit__name", "org_unit__code", "period"]
    autocomplete_fields = ["org_unit"]
    readonly_fields = ["updated_by", "updated_at"]
    list_select_related = ["org_unit", "perspective", "updated_by"]

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Action)
class ActionAdmin(PeriodAwareAdmin):
    list_display = [
        "short_goal",
        "org_unit",
        "perspective",
        "number",
        "period",
        "status",
        "owner",
        "due_date",
    ]
    # Only the units that have actions, not the whole organisation.
    list_filter = [
        "perspective",
        "status",
        "period",
        ("org_unit", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["goal", "description", "owner"]
    autocomplete_fields = ["org_unit", "success_factor"]
    readonly_fields = ["updated_at"]
    list_select_related = ["org_unit", "perspective"]

    @admin.display(description=Action._meta.get_field("goal").verbose_name, ordering="goal")
    def short_goal(self, obj: Action) -> str:
        return str(obj)


class InForceFilter(admin.SimpleListFilter):
    title = _("i kraft")
    parameter_name = "in_force"

    def lookups(self, request, model_admin):
        return [("yes", _("stängd")), ("no", _("öppnad igen"))]

    def queryset(self, request, queryset):
        if self.value() in {"yes", "no"}:
            return queryset.filter(reopened_at__isnull=self.value() == "yes")
        return queryset


@admin.register(PeriodClose)
class PeriodCloseAdmin(ReadOnlyAdmin):
    """The history of closes. Closing and reopening go through scorecard.closing (the
    reporting pages), which check the role and write the audit trail."""

    list_display = ["org_unit", "period", "closed_by", "closed_at", "reopened_by", "reopened_at"]
    list_filter = [InForceFilter, "period"]
    search_fields = ["org_unit__name", "org_unit__code", "=period"]
    list_select_related = ["org_unit", "closed_by", "reopened_by"]


@admin.register(ReportingDeadline)
class ReportingDeadlineAdmin(AuditedAdmin):
    """Deadlines of the report periods (also on the page Rapport > Tidsfrister)."""

    list_display = ["period", "due_date", "remind_days_before", "set_by", "updated_at"]
    search_fields = ["=period"]
    fields = ["period", "due_date", "remind_days_before"]
    list_select_related = ["set_by"]

    def save_model(self, request, obj, form, change):
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ReminderSent)
class ReminderSentAdmin(ReadOnlyAdmin):
    """What the reminder task sent (reporting.reminders): a record, never edited."""

    list_display = ["deadline", "org_unit", "kind", "due_date", "missing", "sent_at"]
    list_filter = ["kind", "deadline"]
    list_select_related = ["deadline", "org_unit"]
