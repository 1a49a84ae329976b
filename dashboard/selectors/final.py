"""The report of an org unit and period as every reader gets it: the page, the print, the
PDF and XLSX files, the `report` command and the API.

While a close is in force the report is the content frozen at the close (FrozenReport,
written by dashboard.freezing): a new scorecard, a renamed indicator, a moved org unit or a
recompute changes nothing in it. After a reopening the report is live again and carries
its differences from the frozen version ("rättad efter fastställande").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from dashboard.corrections import Corrections, FinalState
from dashboard.selectors.division import DivisionPage, division_page
from dashboard.snapshot import line_changes, page_content, page_from_content
from divisions.models import OrgUnit
from indicators.selectors import periods_with_data
from scorecard.closing import report_closes
from scorecard.models import FrozenReport, PeriodClose


@dataclass(frozen=True)
class ShownReport:
    page: DivisionPage
    closure: PeriodClose | None  # the close in force for the unit and period, if any
    stored: dict[str, Any] | None = None  # the frozen content the page was built from

    @property
    def content(self) -> dict[str, Any]:
        """The report as JSON (dashboard.snapshot): the API's answer."""
        return self.stored if self.stored is not None else page_content(self.page)

    @property
    def final(self) -> FinalState | None:
        return self.page.final

    @property
    def corrections(self) -> Corrections | None:
        return self.page.corrections


def _state(close: PeriodClose, content: dict[str, Any]) -> FinalState:
    return FinalState(
        period=close.period,
        closed_on=(content.get("closed_on") or {}).get("name") or close.org_unit.name,
        closed_at=close.closed_at,
        closed_by=close.closed_by.username if close.closed_by else "",
        reason=close.reason,
        reopened_at=close.reopened_at,
        reopened_by=close.reopened_by.username if close.reopened_by else "",
        reopen_reason=close.reopen_reason,
    )


def shown_report(org_unit: OrgUnit, period: str) -> ShownReport:
    """The report readers get for the unit and period (see the module's text)."""
    closes = report_closes(org_unit, period)
    frozen = None
    if closes.frozen is not None:
        frozen = FrozenReport.objects.get(close=closes.frozen, org_unit=org_unit).content
        if closes.frozen.in_force:
            final = _state(closes.frozen, frozen)
            page = page_from_content(frozen, periods=periods_with_data(org_unit), final=final)
            return ShownReport(page, closes.in_force, frozen)
    page = division_page(org_unit, period)
    if frozen is None:
        return ShownReport(page, closes.in_force)
    changes = line_changes(frozen, page_content(page))
    corrections = Corrections(_state(closes.frozen, frozen), changes)
    return ShownReport(replace(page, corrections=corrections), closes.in_force)


def report_page(org_unit: OrgUnit, period: str) -> DivisionPage:
    return shown_report(org_unit, period).page
