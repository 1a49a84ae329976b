from django.contrib import admin

from divisions.access import is_administrator
from scorecard.closing import ensure_open, is_closed

from .models import AuditEntry, LoginLock, Source
from .services import Actor, record_change, record_deletion, snapshot


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes are recorded, and that respects closed periods.

    Recording hooks into the admin's own log_* calls, so it works whatever save_model a
    subclass has. Objects with an org unit and a period are read-only while their period is
    closed: the change page shows them, a POST gets 403 (Django's refusal when the change
    permission is missing), and a save that would move an object into a closed period is
    refused by ensure_open (403; the admin's transaction rolls back, nothing is written).
    """

    def _closed(self, obj) -> bool:
        unit = getattr(obj, "org_unit", None)
        period = getattr(obj, "period", None)
        return bool(unit is not None and period and is_closed(unit, period))

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and self._closed(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and self._closed(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # The stored state, before the form writes into this instance.
            obj._audit_before = snapshot(obj)
        return obj

    def save_model(self, request, obj, form, change) -> None:
        if getattr(obj, "org_unit_id", None) and getattr(obj, "period", None):
            ensure_open(obj.org_unit, obj.period)
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        record_change(actor=Actor.from_request(request, Source.ADMIN), obj=obj, before=None)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        before = getattr(obj, "_audit_before", {})
        record_change(actor=Actor.from_request(request, Source.ADMIN), obj=obj, before=before)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        actor = Actor.from_request(request, Source.ADMIN)
        objects = list(queryset)
        for obj in objects:  # refuse all before recording any
            if self._closed(obj):
                ensure_open(obj.org_unit, obj.period)
        for obj in objects:
            record_deletion(actor=actor, obj=obj)
        return super().log_deletions(request, queryset)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read and filter the trail; nobody adds, changes or deletes it here."""

    list_display = [
        "at",
        "username",
        "source",
        "operation",
        "content_type",
        "object_repr",
        "org_unit",
        "period",
    ]
    list_filter = [
        "source",
        "operation",
        ("content_type", admin.RelatedOnlyFieldListFilter),
        ("org_unit", admin.RelatedOnlyFieldListFilter),
        "period",
        "at",
    ]
    search_fields = ["username", "object_repr", "object_id", "reference"]
    date_hierarchy = "at"
    list_select_related = ["content_type", "org_unit"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_view_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(LoginLock)
class LoginLockAdmin(admin.ModelAdmin):
    """Who is locked out; deleting a row lets that user try again at once."""

    list_display = ["username", "failures", "first_failure_at", "locked_until"]
    search_fields = ["username"]
    readonly_fields = ["username", "failures", "first_failure_at", "locked_until"]
    actions = ["delete_selected"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_administrator(request.user)
