from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.admin import AuditedAdmin, AuditEntryAdmin, save_formset_audited
from audit.models import AuditEntry, Source
from audit.services import Actor

from .access import is_administrator
from .models import OrgUnit, RoleAssignment
from .services import save_org_unit


class ValidityFilter(admin.SimpleListFilter):
    title = _("giltighet")
    parameter_name = "validity"

    def lookups(self, request, model_admin):
        return [("current", _("gäller nu")), ("ended", _("upphört"))]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "current":
            return queryset.filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        if self.value() == "ended":
            return queryset.filter(valid_to__lt=today)
        return queryset


class OrgUnitForm(forms.ModelForm):
    class Meta:
        model = OrgUnit
        fields = ["code", "name", "kind", "parent", "valid_from", "valid_to"]

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        unit = self.instance
        if parent is not None and unit.pk and parent.is_within(unit.path):
            # The unit itself or one of its descendants: the tree would become a cycle.
            raise forms.ValidationError(_("En enhet kan inte ligga under sig själv."))
        return parent


@admin.register(OrgUnit)
class OrgUnitAdmin(AuditedAdmin):
    form = OrgUnitForm
    list_display = ["code", "name", "kind", "parent", "valid_from", "valid_to"]
    list_filter = ["kind", ValidityFilter]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["path"]
    list_select_related = ["parent"]
    ordering = ["path"]
    records_saves = False  # save_org_unit records the change

    def save_model(self, request, obj, form, change):
        save_org_unit(unit=obj, actor=Actor.from_request(request, Source.ADMIN))


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(AuditedAdmin):
    list_display = ["user", "role", "org_unit"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "org_unit__name"]
    autocomplete_fields = ["user", "org_unit"]
    list_select_related = ["user", "org_unit"]


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ["org_unit"]


User = get_user_model()


# Extend whichever user admin is registered (django.contrib.auth's, or a project one).
_UserAdmin = type(admin.site.get_model_admin(User)) if admin.site.is_registered(User) else UserAdmin


class StyrkortUserAdmin(_UserAdmin):
    """The user admin, with the user's roles on the same page."""

    inlines = [*_UserAdmin.inlines, RoleAssignmentInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is RoleAssignment:
            save_formset_audited(request, formset)
        else:
            super().save_formset(request, form, formset, change)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, StyrkortUserAdmin)


# The audit trail's pages, for administrators as the roles define them.
@admin.register(AuditEntry)
class AdministratorsAuditEntryAdmin(AuditEntryAdmin):
    def is_administrator(self, user) -> bool:
        return is_administrator(user)
