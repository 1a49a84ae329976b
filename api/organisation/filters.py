"""Filters for the organisation, and the code-list and org-unit filters every app uses.

One FilterSet serves both the HTML lists and the API (NetBox's way): the same query string
gives the same rows in a page and in a CSV export.
"""

from __future__ import annotations

from datetime import date

import django_filters
from django import forms
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters.widgets import BooleanWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from divisions.models import OrgUnit, OrgUnitKind

MAX_CODES = 500

# Spellings of a boolean query parameter; anything else is a 400, never silently ignored.
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "ja"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "nej"})


def _joined(data, name: str) -> str | None:
    """`?x=a,b` and `?x=a&x=b` alike as "a,b": a repeated parameter must not keep only one."""
    values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
    values = [value for value in values if value is not None]
    return ",".join(values) if values else None


class ListWidget(forms.TextInput):
    def value_from_datadict(self, data, files, name):
        return _joined(data, name)


class ChoiceListWidget(forms.SelectMultiple):
    def value_from_datadict(self, data, files, name):
        text = _joined(data, name)
        return [part.strip() for part in (text or "").split(",") if part.strip()]


class ChoiceListFilter(django_filters.MultipleChoiceFilter):
    """Choices as `?status=a,b` or `?status=a&status=b`; an unknown choice is a 400."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", ChoiceListWidget)
        super().__init__(*args, **kwargs)


class TextListField(forms.CharField):
    widget = ListWidget

    def clean(self, value):
        text = super().clean(value)
        parts = list(dict.fromkeys(part.strip() for part in (text or "").split(",")))
        return [part for part in parts if part] or None


@extend_schema_field(OpenApiTypes.STR)
class CharListFilter(django_filters.Filter):
    field_class = TextListField

    def filter(self, qs: QuerySet, value):
        return qs.filter(**{f"{self.field_name}__in": value}) if value else qs


class BooleanTextWidget(BooleanWidget):
    def value_from_datadict(self, data, files, name):
        return data.get(name)  # the field judges the spelling, and refuses what it cannot read


class BooleanTextField(forms.Field):
    widget = BooleanTextWidget

    def clean(self, value):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise forms.ValidationError(
            _("Ange true eller false (även 1/0, yes/no, on/off, ja/nej), inte %(value)s."),
            params={"value": value},
        )


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = BooleanTextField


class CodeListField(forms.CharField):
    """Comma-separated (or repeated) codes of one model, all of which must exist: a typo is
    an error, not an empty result. A code that several objects share (a success factor's
    code on several scorecards) stands for all of them."""

    widget = ListWidget

    def __init__(self, *, model: type[Model], **kwargs) -> None:
        self.model = model
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        codes = list(dict.fromkeys(code.strip() for code in text.split(",") if code.strip()))
        if len(codes) > MAX_CODES:
            raise forms.ValidationError(
                _("Högst %(max)s koder åt gången."), params={"max": MAX_CODES}
            )
        found: dict[str, list[Model]] = {}
        for obj in self.model._default_manager.filter(code__in=codes).order_by("pk"):
            found.setdefault(obj.code, []).append(obj)
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise forms.ValidationError(
                _("Okänd kod: %(codes)s"), params={"codes": ", ".join(unknown)}
            )
        return [obj for code in codes for obj in found[code]]


class IdListField(forms.CharField):
    """Comma-separated (or repeated) ids of one model, all of which must exist."""

    widget = ListWidget

    def __init__(self, *, model: type[Model], **kwargs) -> None:
        self.model = model
        super().__init__(**kwargs)

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        parts = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
        if len(parts) > MAX_CODES:
            raise forms.ValidationError(_("Högst %(max)s id åt gången."), params={"max": MAX_CODES})
        # Ids are positive integers that fit PostgreSQL's bigint; anything else is no id.
        bad = [p for p in parts if not (p.isascii() and p.isdigit() and 0 < int(p) < 2**63)]
        if bad:
            raise forms.ValidationError(
                _("Inget id: %(values)s"), params={"values": ", ".join(bad)}
            )
        ids = [int(part) for part in parts]
        found = set(self.model._default_manager.filter(pk__in=ids).values_list("pk", flat=True))
        unknown = [str(pk) for pk in ids if pk not in found]
        if unknown:
            raise forms.ValidationError(
                _("Okänt id: %(values)s"), params={"values": ", ".join(unknown)}
            )
        return ids


@extend_schema_field(OpenApiTypes.STR)
class CodeListFilter(django_filters.Filter):
    field_class = CodeListField

    def filter(self, qs: QuerySet, value):
        if not value:
            return qs
        if self.field_name == "code":  # the listed model's own code: compare codes, not objects
            return qs.filter(code__in=[obj.code for obj in value])
        return qs.filter(**{f"{self.field_name}__in": value})


@extend_schema_field(OpenApiTypes.STR)
class IdListFilter(django_filters.Filter):
    field_class = IdListField

    def filter(self, qs: QuerySet, value):
        return qs.filter(**{f"{self.field_name}__in": value}) if value else qs


@extend_schema_field(OpenApiTypes.STR)
class OrgUnitFilter(CodeListFilter):
    """Org units by code; with `subtree=true` also everything under them."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("model", OrgUnit)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value):
        if not value:
            return qs
        if self.parent.form.cleaned_data.get("subtree"):
            within = Q()
            for unit in value:
                within |= unit.subtree_q(f"{self.field_name}__")
            return qs.filter(within)
        return qs.filter(**{f"{self.field_name}__in": value})


def subtree_filter() -> django_filters.BooleanFilter:
    """`subtree=true`: the org_unit filter also takes every unit under the named ones."""
    return StrictBooleanFilter(
        label=_("Med underliggande enheter"),
        method=lambda qs, name, value: qs,  # read by OrgUnitFilter
    )


class OrgUnitFilterSet(django_filters.FilterSet):
    code = CodeListFilter(model=OrgUnit, field_name="code", label=_("Kod (kommaseparerade)"))
    kind = ChoiceListFilter(choices=OrgUnitKind.choices, label=_("Typ"))
    parent = CodeListFilter(model=OrgUnit, field_name="parent", label=_("Överordnad"))
    within = CodeListFilter(
        model=OrgUnit,
        field_name="path",
        method="filter_within",
        label=_("Inom (enheten och allt under den)"),
    )
    valid_on = django_filters.DateFilter(method="filter_valid_on", label=_("Gäller dag"))

    class Meta:
        model = OrgUnit
        fields = ["code", "kind", "parent", "within", "valid_on"]

    def filter_within(self, qs: QuerySet, name: str, value: list[OrgUnit]) -> QuerySet:
        within = Q()
        for unit in value or ():
            within |= unit.subtree_q()
        return qs.filter(within)

    def filter_valid_on(self, qs: QuerySet, name: str, value: date) -> QuerySet:
        return qs.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=value),
            Q(valid_to__isnull=True) | Q(valid_to__gte=value),
        )
