"""What a unit's report of a period still lacks (the completeness board, the reminders).

A report is complete when every indicator due in the period has its value (where the value
shown is the sum of the units below, every unit expected to report has); every indicator
judged not fulfilled or partly fulfilled has the manager's analysis; every perspective with
indicators on the scorecard has the manager's overall assessment; and every indicator judged
not fulfilled is addressed by an action of the period's plan that is not done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from .rules import ReportStatus


class GapKind(StrEnum):
    VALUE = "value"  # an indicator due in the period without its value (per unit)
    ANALYSIS = "analysis"  # a red or yellow indicator without its analysis
    PERSPECTIVE = "perspective"  # a perspective without the overall assessment
    ACTION = "action"  # a red indicator without an open action addressing it


GAP_ORDER = tuple(GapKind)
NEEDS_ANALYSIS = frozenset({ReportStatus.NOT_FULFILLED.value, ReportStatus.PARTLY.value})
NEEDS_ACTION = frozenset({ReportStatus.NOT_FULFILLED.value})


@dataclass(frozen=True)
class IndicatorFacts:
    """One indicator of the unit's report, as the board needs it."""

    code: str
    perspective: str  # the perspective's code
    state: str  # domain.rules.report_status of the indicator as a whole
    due: bool = True  # followed up in the period (Period.is_due)
    has_value: bool = False  # the value that decides its status is shown
    has_analysis: bool = False
    has_open_action: bool = False
    # Units below that have not sent a value the shown sum expects (codes); only when the
    # value shown is such a sum.
    missing_units: tuple[str, ...] = ()


@dataclass(frozen=True)
class Gap:
    kind: GapKind
    subject: str  # the indicator's code, or the perspective's for PERSPECTIVE
    unit: str = ""  # the unit below that lacks the value; "" = the report's own unit


def report_gaps(
    indicators: Iterable[IndicatorFacts], assessed_perspectives: Iterable[str]
) -> list[Gap]:
    """The gaps of one report, by kind (GAP_ORDER), each kind in the indicators' order."""
    indicators = list(indicators)
    assessed = set(assessed_perspectives)
    found: list[Gap] = []
    for facts in indicators:
        if facts.due and not facts.has_value:
            found.append(Gap(GapKind.VALUE, facts.code))
        elif facts.due:
            found.extend(Gap(GapKind.VALUE, facts.code, unit) for unit in facts.missing_units)
        if facts.state in NEEDS_ANALYSIS and not facts.has_analysis:
            found.append(Gap(GapKind.ANALYSIS, facts.code))
        if facts.state in NEEDS_ACTION and not facts.has_open_action:
            found.append(Gap(GapKind.ACTION, facts.code))
    for perspective in dict.fromkeys(facts.perspective for facts in indicators):
        if perspective not in assessed:
            found.append(Gap(GapKind.PERSPECTIVE, perspective))
    rank = {kind: i for i, kind in enumerate(GAP_ORDER)}
    return sorted(found, key=lambda gap: rank[gap.kind])  # stable: the input order stays


def gap_counts(gaps: Iterable[Gap]) -> dict[GapKind, int]:
    """How many gaps of each kind, every kind named (0 where none)."""
    counted = Counter(gap.kind for gap in gaps)
    return {kind: counted.get(kind, 0) for kind in GAP_ORDER}
