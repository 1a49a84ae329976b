"""The published cell comments of a report, as the report's footnotes.

For the generated document (DOCX/PDF): one plain row per commented cell, numbered and
ordered as the report's lines, read from the report readers get (dashboard.selectors.final):
while a close is in force, the comments as they stood at the close.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.selectors.final import report_page
from divisions.models import OrgUnit


@dataclass(frozen=True)
class ReportComment:
    number: int  # the footnote number, as the page marks the cell
    perspective: str
    success_factor: str
    indicator: str  # code
    name: str  # the indicator's name as the report writes it
    breakdown: str  # code: total, women, men, ... (dashboard.presentation.breakdown_label)
    text: str
    author: str  # full name, else user name; "" when the user is gone


def comments_for_report(org_unit: OrgUnit, period: str) -> list[ReportComment]:
    """The report's published cell comments in the order of its lines (drafts never)."""
    return [
        ReportComment(
            number=line.note_number,
            perspective=line.perspective,
            success_factor=line.success_factor,
            indicator=line.indicator.code,
            name=line.indicator.name,
            breakdown=line.breakdown,
            text=line.note,
            author=line.note_by,
        )
        for line in report_page(org_unit, period).lines
        if getattr(line, "note", "")
    ]
