"""Filters for the organisation, and the FilterSet base, code-list and org-unit filters
every app uses.

One FilterSet serves both the HTML lists and the API (NetBox's way): the same query string
gives the same rows in a page and in a CSV export.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import date
from typing import NamedTuple

import django_filters
from django import forms
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from django_filters.filters import FilterMethod, QuerySetRequestMixin
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.widgets import BooleanWidget
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from divisions.models import OrgUnit, OrgUnitKind

MAX_CODES = 500

# Spellings of a boolean query parameter; anything else is a 400, never silently ignored.
TRUE_WORDS = frozenset({"true", "1", "yes", "on", "ja"})
FALSE_WORDS = frozenset({"false", "0", "no", "off", "nej"})


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, set up for each request at half the cost.

    django-filter deep-copies every filter and builds a new form class, with new fields, for
    each request (0.37 ms of a filtered API page, and what made it slower than the whole
    list). A filter keeps no state of its own but its parent and model (and plain attributes
    a FilterSet sets in __init__), so a shallow copy serves; the form class depends on
    nothing but the declared filters, so it is built once per class (SharedFieldsForm).
    tests/api/test_filters.py checks that filter sets alive at once keep their own values.
    """

    def __init__(
        self, data=None, queryset=None, *, request=None, prefix=None, codes_checked_later=()
    ):
        # Code filters whose one code the page's own statement resolves (CodeToCheck).
        self.codes_checked_later = tuple(codes_checked_later)
        base_filters = self.base_filters
        self.base_filters = {}  # nothing for django-filter to deep-copy
        try:
            super().__init__(data, queryset, request=request, prefix=prefix)
        finally:
            del self.base_filters  # the class's again
        model = self.queryset.model
        self.filters = {name: _copied(filter_) for name, filter_ in base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = model
            filter_.parent = self

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            for name in self.codes_checked_later:
                field = form.fields.get(name)
                if isinstance(field, CodeListField):  # the form's own copy of its fields
                    form.fields[name] = field.checked_later()
        return self._form

    def unknown_codes(self) -> dict[str, list[str]]:
        """The errors of the codes left unchecked (CodeToCheck) that exist nowhere: for a
        page that came back empty, where an unknown code and a code without rows look
        alike. The same error as CodeListField's."""
        return {
            name: [_("Okänd kod: %(codes)s") % {"codes": value.code}]
            for name, value in self.form.cleaned_data.items()
            if isinstance(value, CodeToCheck) and not value.exists()
        }

    def get_form_class(self):
        form_class = type(self).__dict__.get("_form_class")
        if form_class is None:
            if any(isinstance(f, QuerySetRequestMixin) for f in self.filters.values()):
                # A model choice's field holds a queryset, maybe one made for this request
                # (`queryset=callable(request)`): django-filter's form class per request.
                return super().get_form_class()
            fields = {name: filter_.field for name, filter_ in self.filters.items()}
            bases = (SharedFieldsForm, self._meta.form)  # Meta.form, if a FilterSet sets one
            form_class = type(f"{type(self).__name__}Form", bases, fields)
            type(self)._form_class = form_class
        return form_class


class SharedFieldsForm(forms.Form):
    """A filter form whose fields serve every request rather than a deep copy of them each.

    Django copies a form's fields for each instance so that one may change a field's choices
    or queryset; no filter form does, and the copy was a third of setting up a filter.
    """

    def __init__(self, *args, **kwargs) -> None:
        self.base_fields = {}  # nothing for Django to deep-copy
        super().__init__(*args, **kwargs)
        del self.base_fields  # the class's again
        self.fields = dict(self.base_fields)


def _copied(filter_: django_filters.Filter) -> django_filters.Filter:
    copied = object.__new__(type(filter_))  # copy.copy's result at a fifth of its cost
    copied.__dict__.update(filter_.__dict__)
    if isinstance(copied.__dict__.get("filter"), FilterMethod):  # `method=`: bound to the copy
        copied.filter = FilterMethod(copied)
    return copied


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


class CodeToCheck(NamedTuple):
    """One code of a unique code field (an indicator's, an org unit's), not yet looked up.

    The rows' statement finds its id itself (`id_query`), so a filtered API page costs the
    round trip of an unfiltered one. A row found proves the code; only an empty page needs
    the lookup after all (FilterSet.unknown_codes), to tell an unknown code from no rows.
    """

    model: type[Model]
    code: str

    def id_query(self) -> RawSQL:
        # A scalar subquery: PostgreSQL reads it once, then the (field, id) index in id order.
        # Raw: the ORM's Subquery took 350 µs to build and compile, this one 150.
        meta = self.model._meta
        return RawSQL(f"SELECT {meta.pk.column} FROM {meta.db_table} WHERE code = %s", [self.code])

    def exists(self) -> bool:
        return self.model._default_manager.filter(code=self.code).exists()


class CodeListField(forms.CharField):
    """Comma-separated (or repeated) codes of one model, all of which must exist: a typo is
    an error, not an empty result. A code that several objects share (a success factor's
    code on several scorecards) stands for all of them.

    A copy made by `checked_later` returns one code unchecked, as a CodeToCheck."""

    widget = ListWidget
    check_later = False

    def __init__(self, *, model: type[Model], columns: Sequence[str] | None = None, **kwargs):
        self.model = model
        self.columns = columns
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
        if self.check_later and len(codes) == 1:
            return CodeToCheck(self.model, codes[0])
        found: dict[str, list[Model]] = {}
        for obj in self._objects(codes):
            found.setdefault(obj.code, []).append(obj)
        unknown = [code for code in codes if code not in found]
        if unknown:
            raise forms.ValidationError(
                _("Okänd kod: %(codes)s"), params={"codes": ", ".join(unknown)}
            )
        return [obj for code in codes for obj in found[code]]

    def checked_later(self) -> CodeListField:
        field = copy.copy(self)
        field.check_later = True
        return field

    def _objects(self, codes: list[str]):
        """The objects of the codes, by id; with `columns` (what the filter reads besides id
        and code), only those, in raw SQL: the ORM took 0.6 ms for a lookup PostgreSQL
        answers in 0.2, on every filtered API page. Any other field loads when read."""
        manager = self.model._default_manager
        if self.columns is None:
            return manager.filter(code__in=codes).order_by("pk")
        meta = self.model._meta
        names = dict.fromkeys([meta.pk.column, "code", *self.columns])
        marks = ", ".join(["%s"] * len(codes))
        return manager.raw(
            f"SELECT {', '.join(names)} FROM {meta.db_table} WHERE code IN ({marks}) "
            f"ORDER BY {meta.pk.column}",
            codes,
        )


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
    """Objects by code. Its own `filter` reads their ids and codes, and `columns`; a
    `method` may read anything, so gets whole objects."""

    field_class = CodeListField
    columns: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("columns", None if kwargs.get("method") else self.columns)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value):
        if not value:
            return qs
        if isinstance(value, CodeToCheck):
            if self.field_name == "code":
                return qs.filter(code=value.code)
            return qs.filter(**{self.field_name: value.id_query()})
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

    columns = ("path",)

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("model", OrgUnit)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value):
        if not value:
            return qs
        subtree = self.parent.form.cleaned_data.get("subtree")
        if isinstance(value, CodeToCheck):
            if not subtree:
                return super().filter(qs, value)
            # A subtree needs the unit's path: looked up here. Unknown, the page is empty,
            # and the empty page says so (FilterSet.unknown_codes).
            value = list(OrgUnit.objects.filter(code=value.code).only("pk", "code", "path"))
            if not value:
                return qs.none()
        if subtree:
            within = Q()
            for unit in value:
                within |= unit.subtree_q(f"{self.field_name}__")
            return qs.filter(within)
        return qs.filter(**{f"{self.field_name}__in": value})


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which gives the filter set the codes the view leaves to the
    page's statement (`codes_checked_later()`) and the view the filter set (`filterset`),
    to look them up should the page come back empty."""

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        later = getattr(view, "codes_checked_later", None)
        if later is not None and (names := later()):
            kwargs["codes_checked_later"] = names
        return kwargs

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


def subtree_filter() -> django_filters.BooleanFilter:
    """`subtree=true`: the org_unit filter also takes every unit under the named ones."""
    return StrictBooleanFilter(
        label=_("Med underliggande enheter"),
        method=lambda qs, name, value: qs,  # read by OrgUnitFilter
    )


class OrgUnitFilterSet(FilterSet):
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
