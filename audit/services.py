"""Writes to the audit trail: insert only, never update or delete.

Every service that changes measurements, targets, assessments, perspective assessments,
actions, the structure or a period close calls `record_change` (or `record_import` for a
whole import) inside its own transaction, so that a change and its record commit together.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone

from domain.numbers import plain_decimal

from .models import AuditEntry, Operation, Source

# Bookkeeping fields that change on every save and say nothing of their own.
IGNORED_FIELDS = frozenset({"id", "updated_at", "computed_at", "path"})


@dataclass(frozen=True)
class Actor:
    """Who changes something, and through which door."""

    user: Any  # a User, or None for the system
    source: str = Source.FORM
    remote_addr: str | None = None

    @classmethod
    def from_request(cls, request: HttpRequest, source: str = Source.FORM) -> Actor:
        # REMOTE_ADDR is the proxy in production; nginx passes the client in X-Forwarded-For,
        # but that header is client-controlled, so only REMOTE_ADDR is recorded as fact.
        return cls(user=request.user, source=source, remote_addr=request.META.get("REMOTE_ADDR"))

    @property
    def username(self) -> str:
        return getattr(self.user, "username", "") or ""

    @property
    def user_id(self) -> int | None:
        user = self.user
        return user.pk if user is not None and getattr(user, "is_authenticated", False) else None


SYSTEM = Actor(user=None, source=Source.SYSTEM)


def plain(value: Any) -> Any:
    """A JSON-safe form of a field value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | dict | float):
        return value
    return str(value)


def snapshot(obj: models.Model) -> dict[str, Any]:
    """The object's own field values, by field name (foreign keys as ids)."""
    values = {}
    for field in obj._meta.concrete_fields:
        if field.name in IGNORED_FIELDS:
            continue
        values[field.name] = plain(getattr(obj, field.attname))
    return values


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list]:
    """{field: [before, after]} for the fields that differ."""
    before, after = before or {}, after or {}
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    }


def _entry(
    *,
    actor: Actor,
    operation: str,
    obj: models.Model,
    changes: dict[str, list],
    org_unit_id: int | None = None,
    period: str = "",
    reference: str = "",
    at: datetime.datetime | None = None,
) -> AuditEntry:
    if org_unit_id is None:
        org_unit_id = getattr(obj, "org_unit_id", None)
        if org_unit_id is None and obj._meta.label == "divisions.OrgUnit":
            org_unit_id = obj.pk
    return AuditEntry(
        at=at or timezone.now(),
        user_id=actor.user_id,
        username=actor.username,
        source=actor.source,
        operation=operation,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        org_unit_id=org_unit_id,
        period=period or getattr(obj, "period", "") or "",
        changes=changes,
        reference=reference[:200],
        remote_addr=actor.remote_addr,
    )


@transaction.atomic
def record_change(
    *,
    actor: Actor,
    obj: models.Model,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None = None,
    reference: str = "",
) -> AuditEntry | None:
    """Record a created (before=None) or changed object; nothing when nothing changed."""
    after = snapshot(obj) if after is None else after
    changes = diff(before, after)
    if not changes:
        return None
    operation = Operation.CREATE if before is None else Operation.UPDATE
    entry = _entry(actor=actor, operation=operation, obj=obj, changes=changes, reference=reference)
    entry.save(force_insert=True)
    return entry


@transaction.atomic
def record_deletion(*, actor: Actor, obj: models.Model, reference: str = "") -> AuditEntry:
    """Record an object about to be deleted (call before deleting: it needs the pk)."""
    changes = diff(snapshot(obj), None)
    entry = _entry(
        actor=actor, operation=Operation.DELETE, obj=obj, changes=changes, reference=reference
    )
    entry.save(force_insert=True)
    return entry


@transaction.atomic
def record_event(
    *,
    actor: Actor,
    operation: str,
    obj: models.Model,
    changes: dict[str, list],
    org_unit_id: int | None = None,
    period: str = "",
) -> AuditEntry:
    """Record something that is not a plain field change (closing a period, ...)."""
    entry = _entry(
        actor=actor,
        operation=operation,
        obj=obj,
        changes=changes,
        org_unit_id=org_unit_id,
        period=period,
    )
    entry.save(force_insert=True)
    return entry


def record_sign_in_event(
    *,
    operation: str,
    username: str,
    user: Any,
    address: str | None,
    changes: dict[str, list],
) -> AuditEntry:
    """Record a failed sign-in or a sign-in lock (accounts.logins).

    The entry is about the account tried (object: the user, when the name exists); `username`
    is the name as typed, since a failure has no signed-in actor.
    """
    entry = AuditEntry(
        at=timezone.now(),
        user_id=None,
        username=(username or "")[:150],
        source=Source.FORM,
        operation=operation,
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(user.pk) if user is not None else "",
        object_repr=(username or "")[:300],
        changes=changes,
        remote_addr=address if address and _is_ip(address) else None,
    )
    entry.save(force_insert=True)
    return entry


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


MEASUREMENT_FIELDS = ("value", "numerator", "denominator", "comment")


@dataclass(frozen=True)
class ImportedValue:
    """One measurement an import created (before=None) or changed.

    Plain ids and values, so that a bulk import can build these straight from its staging
    table; `before`/`after` hold MEASUREMENT_FIELDS (see measurement_values / plain).
    """

    measurement_id: int
    indicator_id: int
    org_unit_id: int
    period: str
    breakdown: str
    row: int | None
    before: dict[str, Any] | None
    after: dict[str, Any]


@transaction.atomic
def record_import(
    *,
    import_record: models.Model,
    user: Any,
    values: Iterable[ImportedValue],
    content_type: ContentType,
    indicator_codes: Mapping[int, str],
    unit_codes: Mapping[int, str],
    batch_size: int = 2000,
) -> int:
    """Record the measurements one import created or changed, in bulk (one query per
    batch, none per value). Returns the number of entries written.

    The caller, which knows the measurement model, gives its content type and the codes
    that name each value (the trail sits below the apps that own them). `values` is taken
    one batch at a time: give an iterator, and memory stays that of one batch however many
    values the import changed.
    """
    actor = Actor(user=user, source=Source.IMPORT)
    where = f"import {import_record.pk} ({getattr(import_record, 'filename', '')})"
    now = timezone.now()
    entries = []
    written = 0
    for value in values:
        changes = diff(value.before, value.after)
        if not changes:
            continue
        name = (
            f"{indicator_codes.get(value.indicator_id)} {unit_codes.get(value.org_unit_id)}"
            f" {value.period} {value.breakdown}"
        )
        entries.append(
            AuditEntry(
                at=now,
                user_id=actor.user_id,
                username=actor.username,
                source=Source.IMPORT,
                operation=Operation.CREATE if value.before is None else Operation.UPDATE,
                content_type=content_type,
                object_id=str(value.measurement_id),
                object_repr=name[:300],
                org_unit_id=value.org_unit_id,
                period=value.period,
                changes=changes,
                reference=(f"{where}, rad {value.row}" if value.row else where)[:200],
            )
        )
        if len(entries) >= batch_size:
            AuditEntry.objects.bulk_create(entries)
            written += len(entries)
            entries = []
    AuditEntry.objects.bulk_create(entries)
    return written + len(entries)


def measurement_values(measurement: models.Model) -> dict[str, Any]:
    """The fields of a measurement the import writes, as the trail stores them."""
    return {name: plain(getattr(measurement, name)) for name in MEASUREMENT_FIELDS}
