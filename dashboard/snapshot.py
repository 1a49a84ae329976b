"""A report as plain JSON, and back: what a close freezes and what a correction is compared to.

`page_content` turns a division page (dashboard.selectors.division) into the content a
FrozenReport stores: the rows as the report showed them (perspective, goal, success factor,
indicator code, name as written, breakdown, target text, value, unit, status, trend), the
assessments' analysis and overrides, the perspective assessments, the drill-down and the
action plan. Codes are stored rather than words, so that the frozen report reads in either
language. Every simple field of ReportLine is carried by name, so a field added to it later
is frozen without a change here.

`page_from_content` builds a page from stored content that the templates, the PDF/XLSX
exports, the `report` command and the API read exactly as a live one, and `line_changes`
says which rows of a report differ from its frozen version, field by field.

No queries here: the selectors (dashboard.selectors.final) fetch, this module converts.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from domain.numbers import plain_decimal
from indicators.models import Unit
from scorecard.models import ActionStatus

from .corrections import FieldChange, LineChange, line_key
from .selectors.division import DivisionPage, PerspectiveSection
from .selectors.overview import PerspectiveCell, PerspectiveGrid, StatusCounts, UnitRow
from .selectors.report import group_report

# 2: rows say why they have no status (no_reference, not_due) and carry no trend without a
# value (domain.rules.report_status); format 1 wrote "no_data" for most of that.
FORMAT = 2
# Format 1's rows without a judged status, and its trends without a movement, are compared
# as one: they differ from today's only in words, not in what the report said.
_UNJUDGED = frozenset({"no_data", "no_reference", "not_due", "not_assessed"})
# ReportLine fields stored as objects of their own rather than by their simple value.
_OBJECT_FIELDS = ("indicator", "measurement", "assessment", "aggregate")


def plain(value: Any) -> Any:
    """A JSON value for a field of the report: numbers as exact text, dates as ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return plain_decimal(value)
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return str(value)


# --------------------------------------------------------------------------- page -> content


def page_content(page: DivisionPage) -> dict[str, Any]:
    """What the page shows, as JSON (the FrozenReport content format)."""
    return {
        "format": FORMAT,
        "org_unit": _unit(page.org_unit),
        "period": page.period,
        "ancestors": [_unit(unit) for unit in page.ancestors],
        "perspectives": [_cell(section.cell) for section in page.sections],
        "lines": [line_content(line) for line in page.lines],
        "children": [
            {**_unit(row.org_unit), "perspectives": [_cell(cell) for cell in row.cells]}
            for row in page.children.rows
        ],
        "actions": [
            _action(action, section.perspective.code)
            for section in page.sections
            for action in section.actions
        ],
    }


def line_content(line: Any) -> dict[str, Any]:
    """One report row: every simple field of the line, then its indicator, value and
    assessment as the row showed them."""
    content = {
        f.name: plain(getattr(line, f.name))
        for f in dataclasses.fields(line)
        if f.name not in _OBJECT_FIELDS
    }
    indicator = line.indicator
    content["indicator"] = {
        "code": indicator.code,
        "name": indicator.name,
        "unit": indicator.unit,
        "follow_up": list(indicator.follow_up or []),
        "perspective": _perspective_code(indicator),
        "key": indicator.pk,
    }
    measurement = line.measurement
    content["measurement"] = (
        None
        if measurement is None
        else {
            "comment": measurement.comment,
            "numerator": plain(measurement.numerator),
            "denominator": plain(measurement.denominator),
        }
    )
    aggregate = line.aggregate
    content["aggregate"] = (
        None
        if aggregate is None
        else {
            "value": plain(aggregate.value),
            "covered": aggregate.covered,
            "expected": aggregate.expected,
            "missing_units": list(aggregate.missing_units),
        }
    )
    assessment = line.assessment
    content["assessment"] = (
        None
        if assessment is None
        else {
            "status": assessment.status,
            "computed_status": assessment.computed_status,
            "override_status": assessment.override_status,
            "override_comment": assessment.override_comment,
            "analysis": assessment.analysis,
        }
    )
    return content


def _perspective_code(indicator: Any) -> str:
    frozen = getattr(indicator, "perspective", None)  # a FrozenIndicator's code
    if isinstance(frozen, str):
        return frozen
    return indicator.success_factor.strategic_goal.perspective.code


def _unit(unit: Any) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name, "kind": unit.kind}


def _cell(cell: PerspectiveCell) -> dict[str, Any]:
    assessment = cell.assessment
    return {
        "perspective": cell.perspective.code,
        "name": cell.perspective.name,
        "status": cell.status,
        "counts": dict(cell.counts.items()),
        "computed": cell.computed,
        "assessment": None
        if assessment is None
        else {
            "status": assessment.status,
            "text": assessment.text,
            "justification": getattr(assessment, "justification", ""),
        },
    }


def _action(action: Any, perspective: str) -> dict[str, Any]:
    return {
        "perspective": perspective,
        "number": action.number,
        "goal": action.goal,
        "description": action.description,
        "status": action.status,
        "comment": action.comment,
        "owner": action.owner,
        "due_date": plain(action.due_date),
        "period": action.period,
        # The indicators it addresses (their codes), as the plan stood at the close.
        "indicators": [
            {"code": indicator.code, "name": indicator.name}
            for indicator in sorted(action.indicators.all(), key=lambda i: i.code)
        ],
    }


# --------------------------------------------------------------------------- content -> page


@dataclass(frozen=True)
class FrozenUnit:
    code: str
    name: str
    kind: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FrozenPerspective:
    code: str
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FrozenIndicator:
    """The placed indicator as the report showed it (reads like a Placement)."""

    code: str
    name: str
    unit: str
    follow_up: list[str]
    perspective: str
    pk: int | None

    def get_unit_display(self) -> str:
        return str(Unit(self.unit).label) if self.unit in Unit.values else self.unit

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class FrozenMeasurement:
    comment: str
    numerator: Decimal | None
    denominator: Decimal | None


@dataclass(frozen=True)
class FrozenAggregate:
    """What the unit's children added up to when the report was closed, and its coverage."""

    value: Decimal
    covered: int
    expected: int
    missing_units: list[str]


@dataclass(frozen=True)
class FrozenAssessment:
    status: str
    computed_status: str
    override_status: str
    override_comment: str
    analysis: str


@dataclass(frozen=True)
class FrozenPerspectiveAssessment:
    status: str
    text: str
    justification: str = ""  # missing in reports closed before it was recorded


@dataclass(frozen=True)
class FrozenAction:
    number: str
    goal: str
    description: str
    status: str
    comment: str
    owner: str
    due_date: datetime.date | None
    period: str = ""
    indicators: tuple[tuple[str, str], ...] = ()  # (code, name) of those it addresses

    @property
    def addressed_names(self) -> list[str]:
        return [name for _code, name in self.indicators]

    def get_status_display(self) -> str:
        return str(ActionStatus(self.status).label) if self.status in ActionStatus.values else ""


class FrozenLine:
    """A report row from stored content: the attributes of a ReportLine, and any other
    simple field the line had when it was frozen."""

    # A report frozen before cell comments existed has none.
    note = ""
    note_by = ""
    note_number = 0

    def __init__(self, content: dict[str, Any]) -> None:
        for name, value in content.items():
            if name not in _OBJECT_FIELDS:
                setattr(self, name, value)
        self.value = _decimal(content.get("value"))
        # Reports frozen before the national comparison have none.
        self.national_value = _decimal(content.get("national_value"))
        self.national_year = content.get("national_year")
        indicator = content["indicator"]
        self.indicator = FrozenIndicator(
            code=indicator["code"],
            name=indicator["name"],
            unit=indicator["unit"],
            follow_up=list(indicator.get("follow_up") or []),
            perspective=indicator.get("perspective", ""),
            pk=indicator.get("key"),
        )
        measurement = content.get("measurement")
        self.measurement = (
            None
            if measurement is None
            else FrozenMeasurement(
                comment=measurement.get("comment", ""),
                numerator=_decimal(measurement.get("numerator")),
                denominator=_decimal(measurement.get("denominator")),
            )
        )
        assessment = content.get("assessment")
        self.assessment = None if assessment is None else FrozenAssessment(**assessment)
        aggregate = content.get("aggregate")
        self.aggregate = (
            None
            if aggregate is None
            else FrozenAggregate(
                value=_decimal(aggregate["value"]),
                covered=aggregate["covered"],
                expected=aggregate["expected"],
                missing_units=list(aggregate.get("missing_units") or []),
            )
        )

    @property
    def aggregated(self) -> bool:
        """As ReportLine.aggregated: the value shown was the children's sum."""
        return self.measurement is None and self.aggregate is not None


def _decimal(text: Any) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def _thaw_cell(content: dict[str, Any], perspective: FrozenPerspective) -> PerspectiveCell:
    assessment = content.get("assessment")
    return PerspectiveCell(
        perspective=perspective,
        status=content["status"],
        counts=StatusCounts.of(content.get("counts") or {}),
        assessment=None if assessment is None else FrozenPerspectiveAssessment(**assessment),
    )


def _thaw_unit(content: dict[str, Any]) -> FrozenUnit:
    return FrozenUnit(code=content["code"], name=content["name"], kind=content.get("kind", ""))


def _thaw_action(content: dict[str, Any]) -> FrozenAction:
    due = content.get("due_date")
    return FrozenAction(
        number=content.get("number", ""),
        goal=content.get("goal", ""),
        description=content.get("description", ""),
        status=content.get("status", ""),
        comment=content.get("comment", ""),
        owner=content.get("owner", ""),
        due_date=datetime.date.fromisoformat(due) if due else None,
        period=content.get("period", ""),
        indicators=tuple((i["code"], i["name"]) for i in content.get("indicators", ())),
    )


def page_from_content(content: dict[str, Any], *, periods: list[str], **extra: Any) -> DivisionPage:
    """The division page the content was frozen from, as far as the page shows it.

    `periods` (the period chooser) is today's; `extra` sets the page's other fields
    (`frozen`, `corrections`).
    """
    perspectives = [FrozenPerspective(p["perspective"], p["name"]) for p in content["perspectives"]]
    by_code = {p.code: p for p in perspectives}
    lines = [FrozenLine(line) for line in content["lines"]]
    groups = {
        group.goals[0].factors[0].indicators[0].indicator.perspective: group
        for group in (group_report(lines))
    }
    actions: dict[str, list[FrozenAction]] = {}
    for action in content.get("actions", []):
        actions.setdefault(action["perspective"], []).append(_thaw_action(action))
    sections = [
        PerspectiveSection(
            perspective,
            _thaw_cell(cell, perspective),
            groups.get(perspective.code),
            actions.get(perspective.code, []),
        )
        for perspective, cell in zip(perspectives, content["perspectives"], strict=True)
    ]
    children = PerspectiveGrid(
        content["period"],
        perspectives,
        [
            UnitRow(
                _thaw_unit(child),
                [
                    _thaw_cell(
                        cell,
                        by_code.get(cell["perspective"])
                        or FrozenPerspective(cell["perspective"], cell.get("name", "")),
                    )
                    for cell in child["perspectives"]
                ],
            )
            for child in content.get("children", [])
        ],
    )
    return DivisionPage(
        org_unit=_thaw_unit(content["org_unit"]),
        period=content["period"],
        periods=periods,
        ancestors=[_thaw_unit(unit) for unit in content.get("ancestors", [])],
        sections=sections,
        children=children,
        lines=lines,
        **extra,
    )


# --------------------------------------------------------------------------- comparison

# The fields of a row compared with its frozen version, beside every simple field of the
# line; layout flags are not differences.
# The indicator's state follows from its lines' statuses, which are compared.
# A comment's footnote number and author follow from the comments, whose text is compared.
_NOT_COMPARED = frozenset({"first_of_indicator", "indicator_state", "note_by", "note_number"})
# What an added or a removed row shows of itself.
_SHOWN = ("target", "value", "status")


def _compared(line: dict[str, Any], *, legacy: bool = False) -> dict[str, Any]:
    """The row's values a reader compares: its own fields, its indicator's name and unit,
    the value's comment and, on the indicator's first row, its assessment's texts.
    `legacy`: against a format 1 report, whose unjudged rows all said "no data"."""
    values = {
        name: value
        for name, value in line.items()
        if name not in _OBJECT_FIELDS and name not in _NOT_COMPARED
    }
    if legacy:
        if values.get("status") in _UNJUDGED:
            values["status"] = "no_data"
        if values.get("trend") == "no_data":
            values["trend"] = ""
    values["name"] = line["indicator"]["name"]
    values["unit"] = line["indicator"]["unit"]
    values["comment"] = (line.get("measurement") or {}).get("comment", "")
    if line.get("first_of_indicator"):
        assessment = line.get("assessment") or {}
        for name in ("analysis", "override_status", "override_comment"):
            values[name] = assessment.get(name, "")
    return values


def line_changes(frozen: dict[str, Any], now: dict[str, Any]) -> list[LineChange]:
    """The rows of `now` that differ from `frozen` (both page_content), in report order;
    rows the frozen report had and the report no longer has come last."""
    before = {line_key(li["indicator"]["code"], li["breakdown"]): li for li in frozen["lines"]}
    legacy = frozen.get("format", 1) < 2
    changes: list[LineChange] = []
    seen: set[str] = set()
    for line in now["lines"]:
        key = line_key(line["indicator"]["code"], line["breakdown"])
        seen.add(key)
        old = before.get(key)
        new_values = _compared(line, legacy=legacy)
        if old is None:
            fields = [FieldChange(name, None, new_values.get(name)) for name in _SHOWN]
            changes.append(_change(line, "added", fields))
            continue
        old_values = _compared(old, legacy=legacy)
        fields = [
            FieldChange(name, old_values[name], value)
            for name, value in new_values.items()
            if name in old_values and old_values[name] != value
        ]
        if fields:
            changes.append(_change(line, "changed", fields))
    for key, line in before.items():
        if key not in seen:
            old_values = _compared(line)
            fields = [FieldChange(name, old_values.get(name), None) for name in _SHOWN]
            changes.append(_change(line, "removed", fields))
    return changes


def _change(line: dict[str, Any], kind: str, fields: list[FieldChange]) -> LineChange:
    return LineChange(
        indicator=line["indicator"]["code"],
        name=line["indicator"]["name"],
        breakdown=line["breakdown"],
        kind=kind,
        fields=fields,
    )
