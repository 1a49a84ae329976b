from django.contrib import admin
from django.db import transaction

from .models import AuditEntry, Source
from .services import Actor, record_change, record_deletion, snapshot


@transaction.atomic
def save_formset_audited(request, formset) -> None:
    """Save an admin inline formset, recording each created, changed and deleted row.

    For admins that audit an inline of another model (roles on the user page); an
    AuditedAdmin uses it for its own inlines.
    """
    actor = Actor.from_request(request, Source.ADMIN)
    model = formset.model
    pks = [f.instance.pk for f in formset.initial_forms if f.instance.pk is not None]
    # The forms' instances already hold the new values: the old ones come from the database.
    before = {obj.pk: snapshot(obj) for obj in model._default_manager.filter(pk__in=pks)}
    instances = formset.save(commit=False)
    for obj in formset.deleted_objects:
        record_deletion(actor=actor, obj=obj)
        obj.delete()
    for obj in instances:
        old = before.get(obj.pk)
        obj.save()
        record_change(actor=actor, obj=obj, before=old)
    formset.save_m2m()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows with their own write path (an import, a sync, a task, a close): the admin
    shows them and never adds, changes or deletes one."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedAdmin(admin.ModelAdmin):
    """A ModelAdmin whose saves and deletes are recorded.

    Recording hooks into the admin's own log_* calls, so it works whatever save_model a
    subclass has. A layer above freezes objects through two hooks: `is_frozen` makes an
    object read-only (the change page shows it, a POST gets 403, Django's refusal when the
    change permission is missing), and `ensure_changeable` refuses a save or delete by
    raising (403; the admin's transaction rolls back, nothing is written).
    """

    # False when save_model calls a service that records the change itself.
    records_saves = True

    def is_frozen(self, obj) -> bool:
        return False

    def ensure_changeable(self, obj) -> None:
        pass

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is not None and self.is_frozen(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and self.is_frozen(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            # The stored state, before the form writes into this instance.
            obj._audit_before = snapshot(obj)
        return obj

    def save_model(self, request, obj, form, change) -> None:
        self.ensure_changeable(obj)
        super().save_model(request, obj, form, change)

    def log_addition(self, request, obj, message):
        if self.records_saves:
            actor = Actor.from_request(request, Source.ADMIN)
            record_change(actor=actor, obj=obj, before=None)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if self.records_saves:
            before = getattr(obj, "_audit_before", {})
            actor = Actor.from_request(request, Source.ADMIN)
            record_change(actor=actor, obj=obj, before=before)
        return super().log_change(request, obj, message)

    def save_formset(self, request, form, formset, change) -> None:
        save_formset_audited(request, formset)

    def log_deletions(self, request, queryset):
        actor = Actor.from_request(request, Source.ADMIN)
        objects = list(queryset)
        for obj in objects:  # refuse all before recording any
            self.ensure_changeable(obj)
        for obj in objects:
            record_deletion(actor=actor, obj=obj)
        return super().log_deletions(request, queryset)


class AdministratorsOnlyAdmin(admin.ModelAdmin):
    """An admin for administrators only. Who is one is the organisation layer's rule
    (roles live there), so divisions.admin registers these with its `is_administrator`;
    on its own this admits superusers only."""

    def is_administrator(self, user) -> bool:
        return bool(getattr(user, "is_superuser", False))


class AuditEntryAdmin(ReadOnlyAdmin, AdministratorsOnlyAdmin):
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
        return self.is_administrator(request.user)
