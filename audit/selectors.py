"""Reads of the audit trail: per object and per report (org unit and period)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q, QuerySet

from .models import AuditEntry


@dataclass(frozen=True)
class ChangeLine:
    field: str
    label: str
    before: Any
    after: Any


@dataclass(frozen=True)
class HistoryItem:
    entry: AuditEntry
    kind: str
    lines: list[ChangeLine]


def _field(model: type[models.Model] | None, name: str):
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    # A relation kept on the other model (a reverse many-to-many, recorded as a list of
    # codes by the service that writes it) has no field of its own here.
    return None if field.auto_created and not field.concrete else field


def _label(model: type[models.Model] | None, name: str, field) -> str:
    if field is not None:
        return str(field.verbose_name)
    try:
        related = model._meta.get_field(name).related_model if model is not None else None
    except FieldDoesNotExist:
        related = None
    return str(related._meta.verbose_name_plural) if related is not None else name


class _Display:
    """Stored values as a reader knows them: choice labels, and names for ids."""

    def __init__(self) -> None:
        self.names: dict[tuple[type[models.Model], Any], str] = {}

    def __call__(self, field, value: Any) -> Any:
        if field is None and isinstance(value, list):  # a reverse relation's codes
            return ", ".join(str(item) for item in value)
        if field is None or value is None or value == "":
            return value
        if field.choices:
            return dict(field.flatchoices).get(value, value)
        if field.is_relation and field.related_model is not None:
            key = (field.related_model, value)
            if key not in self.names:
                related = field.related_model._default_manager.filter(pk=value).first()
                self.names[key] = str(related) if related is not None else str(value)
            return self.names[key]
        return value


def _items(entries: QuerySet[AuditEntry]) -> list[HistoryItem]:
    display = _Display()
    items = []
    for entry in entries.select_related("content_type", "org_unit"):
        model = entry.content_type.model_class()
        lines = []
        for name, pair in entry.changes.items():
            if not (isinstance(pair, list) and len(pair) == 2):
                continue
            if pair[0] in (None, "") and pair[1] in (None, ""):
                continue  # an empty field of a new or deleted object says nothing
            field = _field(model, name)
            label = _label(model, name, field)
            lines.append(ChangeLine(name, label, display(field, pair[0]), display(field, pair[1])))
        kind = str(model._meta.verbose_name) if model is not None else entry.content_type.model
        items.append(HistoryItem(entry, kind, lines))
    return items


def history_of(obj: models.Model) -> list[HistoryItem]:
    """Everything recorded about one object, newest first."""
    content_type = ContentType.objects.get_for_model(obj)
    return _items(AuditEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)))


def history_of_report(org_unit: models.Model, period: str) -> list[HistoryItem]:
    """What changed in one org unit's report for a period; actions (not per period) included."""
    action_type = ContentType.objects.get_by_natural_key("scorecard", "action")
    return _items(
        AuditEntry.objects.filter(org_unit=org_unit).filter(
            Q(period=period) | Q(content_type=action_type)
        )
    )
