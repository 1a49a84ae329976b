from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from audit.admin import ReadOnlyAdmin
from audit.models import Source
from domain.measurements import number_problems
from scorecard.admin import PeriodAwareAdmin, ReadOnlyInline, ScorecardAdmin
from scorecard.models import Scorecard

from .comments import save_comment
from .editing import VALUE_FIELDS, ValuesBusy, set_measurement, update_measurement
from .models import (
    Assessment,
    CellComment,
    Import,
    Indicator,
    Measurement,
    MeasurementRevision,
    Placement,
    Target,
)
from .recompute import recompute_assessments

# --------------------------------------------------------------------------- filters


class PeriodFilter(admin.SimpleListFilter):
    """Years and tertials of the last five years, without a DISTINCT over a huge table.

    Months and older periods: search for the period code (2022-08).
    """

    title = _("period")
    parameter_name = "period"
    years = 5

    def lookups(self, request, model_admin):
        this_year = timezone.localdate().year
        return [
            (code, code)
            for year in range(this_year, this_year - self.years, -1)
            for code in (str(year), f"{year}-T3", f"{year}-T2", f"{year}-T1")
        ]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(period=self.value())
        return queryset


class BreakdownFilter(admin.SimpleListFilter):
    """The breakdowns the indicators declare (a small table), not those of every row."""

    title = _("uppdelning")
    parameter_name = "breakdown"

    def lookups(self, request, model_admin):
        names = {
            name
            for breakdowns in Indicator.objects.values_list("breakdowns", flat=True)
            for name in breakdowns or ()
        }
        return [(name, name) for name in sorted(names)]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(breakdown=self.value())
        return queryset


# --------------------------------------------------------------------------- definitions


class TargetInline(admin.TabularInline):
    model = Target
    extra = 0
    autocomplete_fields = ["org_unit"]
    fields = [
        "year",
        "org_unit",
        "breakdown",
        "kind",
        "value",
        "band",
        "base_year",
        "relative_change",
        "annual",
        "text",
    ]


class PlacementsOfIndicatorInline(ReadOnlyInline):
    """Where the indicator sits."""

    model = Placement
    fields = ["scorecard", "success_factor", "name", "order"]


@admin.register(Indicator)
class IndicatorAdmin(PeriodAwareAdmin):
    """The regional catalogue: what an indicator is; where it sits is each placement's."""

    list_display = ["code", "short_name", "unit", "direction", "aggregation"]
    list_filter = ["unit", "direction", "aggregation"]
    search_fields = ["code", "name"]
    fields = [
        "code",
        "name",
        "unit",
        "direction",
        "aggregation",
        "breakdowns",
        "trend_band",
        "kolada_kpi",
    ]
    inlines = [TargetInline, PlacementsOfIndicatorInline]

    @admin.display(description=_("namn"), ordering="name")
    def short_name(self, obj: Indicator) -> str:
        return Truncator(obj.name).chars(70)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change and (form.has_changed() or any(fs.has_changed() for fs in formsets)):
            recompute_assessments(indicator_ids=[form.instance.pk])


class PlacementForm(forms.ModelForm):
    class Meta:
        model = Placement
        fields = [
            "scorecard",
            "indicator",
            "success_factor",
            "name",
            "breakdowns",
            "follow_up",
            "baseline_text",
            "order",
        ]

    def clean(self):
        cleaned = super().clean()
        scorecard, factor = cleaned.get("scorecard"), cleaned.get("success_factor")
        if scorecard and factor and factor.scorecard_id != scorecard.pk:
            self.add_error("success_factor", _("Framgångsfaktorn hör till ett annat styrkort."))
        indicator, breakdowns = cleaned.get("indicator"), cleaned.get("breakdowns")
        if indicator and isinstance(breakdowns, list):
            unknown = [b for b in breakdowns if b not in (indicator.breakdowns or [])]
            if unknown:
                self.add_error(
                    "breakdowns",
                    _("Styrmåttet har inte uppdelningarna %(names)s.")
                    % {"names": ", ".join(map(str, unknown))},
                )
        return cleaned


@admin.register(Placement)
class PlacementAdmin(PeriodAwareAdmin):
    """An indicator on one scorecard. A change is judged again at once."""

    form = PlacementForm
    list_display = ["indicator_code", "name", "scorecard", "success_factor", "order"]
    list_filter = [
        "scorecard__year",
        "success_factor__strategic_goal__perspective",
        ("scorecard__org_unit", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["^indicator__code", "name", "^scorecard__org_unit__code"]
    autocomplete_fields = ["scorecard", "indicator", "success_factor"]
    list_select_related = ["indicator", "scorecard__org_unit", "success_factor"]

    @admin.display(description=_("styrmått"), ordering="indicator__code")
    def indicator_code(self, obj: Placement) -> str:
        return obj.indicator.code

    def save_model(self, request, obj, form, change):
        old = Placement.objects.filter(pk=obj.pk).values_list("indicator_id", flat=True).first()
        super().save_model(request, obj, form, change)
        recompute_assessments(indicator_ids=[i for i in (obj.indicator_id, old) if i])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        recompute_assessments(indicator_ids=[obj.indicator_id])

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # One by one so each deletion is recorded, and one recompute at the end.
        ids = set()
        for obj in queryset:
            ids.add(obj.indicator_id)
            super().delete_model(request, obj)
        recompute_assessments(indicator_ids=ids)


class PlacementInline(ReadOnlyInline):
    """A scorecard's indicators."""

    model = Placement
    fields = ["indicator", "name", "success_factor", "order"]


# The scorecard's page lists its placements too. Placement sits a layer above
# scorecard/, so the scorecard's admin learns of them here.
admin.site.unregister(Scorecard)


@admin.register(Scorecard)
class ScorecardWithPlacementsAdmin(ScorecardAdmin):
    inlines = [*ScorecardAdmin.inlines, PlacementInline]


@admin.register(Target)
class TargetAdmin(PeriodAwareAdmin):
    list_display = ["indicator", "year", "org_unit", "breakdown", "kind", "value", "band"]
    list_filter = ["kind", "year"]
    search_fields = ["indicator__code", "indicator__name", "text"]
    autocomplete_fields = ["indicator", "org_unit"]
    list_select_related = ["indicator", "org_unit"]

    def save_model(self, request, obj, form, change):
        old = Target.objects.filter(pk=obj.pk).values_list("indicator_id", flat=True).first()
        super().save_model(request, obj, form, change)
        recompute_assessments(indicator_ids=[obj.indicator_id, old])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        recompute_assessments(indicator_ids=[obj.indicator_id])

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        # One by one so each deletion is recorded, and one recompute per indicator at the end.
        ids = set()
        for obj in queryset:
            ids.add(obj.indicator_id)
            super().delete_model(request, obj)
        recompute_assessments(indicator_ids=ids)


# --------------------------------------------------------------------------- data


@admin.register(Import)
class ImportAdmin(ReadOnlyAdmin):
    """The import log: what came in and how it went. Nobody edits or removes history."""

    list_display = [
        "id",
        "filename",
        "source",
        "status",
        "user",
        "created",
        "changed",
        "unchanged",
        "rejected",
        "started_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["filename", "=sha256"]
    list_select_related = ["user"]
    show_full_result_count = False

    def get_queryset(self, request):
        # The list shows neither; the page of one import loads them when it shows them.
        return super().get_queryset(request).defer("errors", "preview_rows")


class MeasurementForm(forms.ModelForm):
    class Meta:
        model = Measurement
        fields = [
            "indicator",
            "org_unit",
            "period",
            "breakdown",
            "value",
            "numerator",
            "denominator",
            "comment",
        ]

    def clean(self):
        cleaned = super().clean()
        indicator, breakdown = cleaned.get("indicator"), cleaned.get("breakdown")
        if indicator and breakdown and breakdown not in (indicator.breakdowns or []):
            self.add_error(
                "breakdown",
                _("Styrmåttet har inte den uppdelningen (%(names)s).")
                % {"names": ", ".join(indicator.breakdowns or [])},
            )
        if "denominator" in number_problems(denominator=cleaned.get("denominator")):
            self.add_error("denominator", _("Nämnaren måste vara större än noll."))
        return cleaned


@admin.register(Measurement)
class MeasurementAdmin(PeriodAwareAdmin):
    """Millions of rows: no full count, no filter listing every indicator or unit."""

    form = MeasurementForm
    list_display = [
        "indicator_code",
        "org_unit",
        "period",
        "breakdown",
        "value",
        "source_import",
        "source_row",
        "updated_at",
    ]
    list_filter = [PeriodFilter, BreakdownFilter]
    search_fields = ["^indicator__code", "^org_unit__code", "=period"]
    list_select_related = ["indicator", "org_unit", "source_import"]
    autocomplete_fields = ["indicator", "org_unit"]
    show_full_result_count = False
    key_fields = ["indicator", "org_unit", "period", "breakdown"]
    source_fields = ["source_import", "source_row", "entered_by", "updated_at"]

    @admin.display(description=_("styrmått"), ordering="indicator__code")
    def indicator_code(self, obj: Measurement) -> str:
        return obj.indicator.code

    def get_readonly_fields(self, request, obj=None):
        # The key of a stored measurement is fixed: a different key is another measurement.
        return [*self.source_fields, *(self.key_fields if obj else [])]

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        # Deleting would drop its revisions and leave its assessment behind.
        return False

    records_saves = False  # the editing services record the change

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValuesBusy as busy:
            # An import holds the value: nothing was written (the admin's transaction is
            # rolled back); say so and show the form again, rather than a 500.
            self.message_user(request, str(busy), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        if change and not form.has_changed():
            return  # no new value, so no revision either
        # The same write as the forms and the API: a revision, the audit entry, a recompute.
        values = {name: getattr(obj, name) for name in VALUE_FIELDS}
        where = {"source": Source.ADMIN, "remote_addr": request.META.get("REMOTE_ADDR")}
        if change:
            update_measurement(user=request.user, measurement=obj, **values, **where)
        else:
            saved, _created = set_measurement(
                user=request.user,
                indicator=obj.indicator,
                org_unit=obj.org_unit,
                period=obj.period,
                breakdown=obj.breakdown,
                **values,
                **where,
            )
            obj.pk = saved.pk


@admin.register(MeasurementRevision)
class MeasurementRevisionAdmin(ReadOnlyAdmin):
    list_display = ["measurement", "value", "valid_from", "replaced_at", "replaced_by_import"]
    search_fields = ["^measurement__indicator__code", "^measurement__org_unit__code"]
    list_select_related = [
        "measurement__indicator",
        "measurement__org_unit",
        "replaced_by_import",
    ]
    raw_id_fields = ["measurement", "source_import", "replaced_by_import", "entered_by"]
    show_full_result_count = False


@admin.register(Assessment)
class AssessmentAdmin(PeriodAwareAdmin):
    """Computed by the services; here only the manual override and the analysis are edited."""

    list_display = [
        "indicator",
        "org_unit",
        "period",
        "computed_status",
        "override_status",
        "trend",
    ]
    list_filter = ["computed_status", "override_status", "trend", PeriodFilter]
    search_fields = ["^indicator__code", "indicator__name", "^org_unit__code", "=period"]
    list_select_related = ["indicator", "org_unit"]
    show_full_result_count = False
    readonly_fields = [
        "indicator",
        "org_unit",
        "period",
        "computed_status",
        "trend",
        "details",
        "computed_at",
        "override_by",
    ]

    def has_add_permission(self, request):
        # An assessment without measurements has nothing to be computed from.
        return False

    def save_model(self, request, obj, form, change):
        if {"override_status", "override_comment"} & set(form.changed_data):
            obj.override_by = request.user if obj.override_status else None
        super().save_model(request, obj, form, change)


@admin.register(CellComment)
class CellCommentAdmin(PeriodAwareAdmin):
    """Saved through indicators.comments, as the form and the API save them; read-only
    while the period is closed."""

    list_display = ["indicator", "org_unit", "period", "breakdown", "state", "author", "updated_at"]
    list_filter = ["state", PeriodFilter]
    search_fields = ["^indicator__code", "^org_unit__code", "=period", "text"]
    list_select_related = ["indicator", "org_unit", "author"]
    autocomplete_fields = ["indicator", "org_unit"]
    fields = ["indicator", "org_unit", "period", "breakdown", "text", "state"]
    show_full_result_count = False
    key_fields = ["indicator", "org_unit", "period", "breakdown"]
    records_saves = False  # save_comment records the change

    def get_readonly_fields(self, request, obj=None):
        return self.key_fields if obj else []

    def save_model(self, request, obj, form, change):
        saved = save_comment(
            user=request.user,
            indicator=obj.indicator,
            org_unit=obj.org_unit,
            period=obj.period,
            breakdown=obj.breakdown,
            text=obj.text,
            state=obj.state,
            source=Source.ADMIN,
            remote_addr=request.META.get("REMOTE_ADDR"),
        )
        if saved is not None:
            obj.pk = saved.pk
