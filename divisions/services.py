"""Writes to the organisation tree."""

from dataclasses import dataclass
from datetime import date

from django.db import transaction

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
            path = f"{parent.path if parent else '/'}{spec.code}/"
            fields = {
                "name": spec.name,
                "kind": spec.kind,
                "parent": parent,
                "path": path,
                "valid_from": spec.valid_from,
                "valid_to": spec.valid_to,
            }
            unit = existing.get(spec.code)
            if unit is None:
                unit = OrgUnit.objects.create(code=spec.code, **fields)
                created += 1
            elif any(getattr(unit, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(unit, name, value)
                unit.save()
                changed += 1
            existing[spec.code] = unit
            pending.remove(spec)
            progressed = True
        if not progressed:
            raise ValueError(
                f"org units with unknown or cyclic parents: {[s.code for s in pending]}"
            )
    return created, changed
