"""The states of a report's close: its frozen version (FinalState) and how a reopened report
differs from it (Corrections, built by dashboard.snapshot.line_changes)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any


@dataclass(frozen=True)
class FinalState:
    """The close a frozen version belongs to: when, by whom, why; and its reopening."""

    period: str
    closed_on: str  # the org unit the close was made on (the unit itself or one above it)
    closed_at: datetime.datetime
    closed_by: str
    reason: str
    reopened_at: datetime.datetime | None
    reopened_by: str
    reopen_reason: str

    @property
    def in_force(self) -> bool:
        return self.reopened_at is None


@dataclass(frozen=True)
class Corrections:
    """How a reopened report differs from the version that was closed."""

    final: FinalState
    changes: list[LineChange]

    @cached_property
    def by_key(self) -> dict[str, LineChange]:
        return {change.key: change for change in self.changes}


@dataclass(frozen=True)
class FieldChange:
    field: str
    frozen: Any  # the value as the closed report showed it (plain JSON)
    now: Any


@dataclass(frozen=True)
class LineChange:
    """A row that differs from the frozen report: changed, added or removed."""

    indicator: str  # code
    name: str  # as the report writes it now (the frozen name for a removed row)
    breakdown: str
    kind: str  # "changed", "added", "removed"
    fields: list[FieldChange] = field(default_factory=list)

    @property
    def key(self) -> str:
        return line_key(self.indicator, self.breakdown)


def line_key(indicator: str, breakdown: str) -> str:
    return f"{indicator}/{breakdown}"
