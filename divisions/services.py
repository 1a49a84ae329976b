"""Writes to the organisation tree."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr

from audit.services import Actor, record_change, snapshot

from .models import OrgUnit


@dataclass(frozen=True)
class OrgUnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None
    valid_from: date | None = None
    valid_to: date | None = None


@transaction.atomic
def save_org_unit(*, unit: OrgUnit, actor: Actor | None) -> OrgUnit:
    """Create or change an org unit: its path follows its parent, and when the path
    changes every unit under it moves along.

    Records the change for `actor`; None records nothing (the definitions loader, whose
    other structure writes are not recorded either).
    """
    stored = OrgUnit.objects.select_for_update().filter(pk=unit.pk).first() if unit.pk else None
    before = snapshot(stored) if stored is not None else None
    unit.path = OrgUnit.path_under(unit.parent.path if unit.parent_id else None, unit.code)
    unit.save()
    if stored is not None and stored.path != unit.path:
        # Prefix replace in one UPDATE: "/reg/old/x/" -> "/reg/new/x/".
        OrgUnit.objects.filter(stored.subtree_q()).exclude(pk=unit.pk).update(
            path=Concat(Value(unit.path), Substr("path", len(stored.path) + 1))
        )
    if actor is not None:
        record_change(actor=actor, obj=unit, before=before)
    return unit


@transaction.atomic
def upsert_org_units(*, specs: list[OrgUnitSpec]) -> tuple[int, int]:
    """Create or update org units, parents before children. Returns (created, changed).

    Specs are assumed validated (known kinds, parents that exist in the file or database,
    no cycles); the loader checks that and names the offending entry.
    """
    existing = {unit.code: unit for unit in OrgUnit.objects.all()}
    pending = list(specs)
    created = changed = 0
    while pending:
        progressed = False
        for spec in list(pending):
            if spec.parent is not None and spec.parent not in existing:
                continue
            parent = existing[spec.parent] if spec.parent else None
            fields = {
                "name": spec.name,
                "kind": spec.kind,
                "parent": parent,
                "path": OrgUnit.path_under(parent.path if parent else None, spec.code),
                "valid_from": spec.valid_from,
                "valid_to": spec.valid_to,
            }
            unit = existing.get(spec.code)
            if unit is None:
                unit = OrgUnit(code=spec.code)
                created += 1
            elif any(getattr(unit, name) != value for name, value in fields.items()):
                changed += 1
            else:
                fields = {}
            if fields:
                old_path = unit.path
                for name, value in fields.items():
                    setattr(unit, name, value)
                save_org_unit(unit=unit, actor=None)
                if old_path and old_path != unit.path:
                    # The subtree moved in the database: keep the cached units in step.
                    for other in existing.values():
                        if other is not unit and other.is_within(old_path):
                            other.path = unit.path + other.path[len(old_path) :]
            existing[spec.code] = unit
            pending.remove(spec)
            progressed = True
        if not progressed:
            raise ValueError(
                f"org units with unknown or cyclic parents: {[s.code for s in pending]}"
            )
    return created, changed
