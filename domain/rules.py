"""Goal fulfilment (måluppfyllelse), trend (utveckling) and roll-up rules.

Pure functions over Decimal values: no ORM, no settings, so the rules can be tested
table-driven and reused by the importer, the API and the reports alike. The rules are
those of docs/domain.md, "Rules"; the comments say why where a choice was made.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

__all__ = [
    "ROLLUP_SCORES",
    "Direction",
    "ReportStatus",
    "Status",
    "TargetKind",
    "TargetSpec",
    "Trend",
    "combine",
    "combine_trends",
    "default_band",
    "effective_threshold",
    "evaluate",
    "has_deciding_value",
    "indicator_status",
    "report_status",
    "report_trend",
    "rollup",
    "status_after_override",
    "trend",
]

ZERO = Decimal(0)
ONE = Decimal(1)
DEFAULT_BAND_SHARE = Decimal("0.10")  # band = 10 % of |t| unless the indicator says otherwise
MONTHS_PER_YEAR = 12


class Status(StrEnum):
    FULFILLED = "fulfilled"
    PARTLY = "partly"
    NOT_FULFILLED = "not_fulfilled"
    NO_DATA = "no_data"
    NOT_ASSESSED = "not_assessed"  # target kind none ("följs upp"): followed up, never judged


class Trend(StrEnum):
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    WORSENED = "worsened"
    NO_DATA = "no_data"


class TargetKind(StrEnum):
    AT_LEAST = "at_least"
    AT_MOST = "at_most"
    INCREASE = "increase"
    DECREASE = "decrease"
    NONE = "none"


class Direction(StrEnum):
    # Values match the `direction` field of the scorecard YAML.
    HIGHER_IS_BETTER = "increase"
    LOWER_IS_BETTER = "decrease"
    CLOSER_TO_TARGET = "target"


_THRESHOLD_KINDS = frozenset({TargetKind.AT_LEAST, TargetKind.AT_MOST})
_CHANGE_KINDS = frozenset({TargetKind.INCREASE, TargetKind.DECREASE})


@dataclass(frozen=True)
class TargetSpec:
    kind: TargetKind
    value: Decimal | None = None  # t for at_least/at_most
    band: Decimal | None = None  # None -> default_band()
    base_year: int | None = None  # increase/decrease against a named year, not one year earlier
    # 0.50 for "minska med 50 %": t = reference * (1 - 0.50), then at_most;
    # for increase t = reference * (1 + x), then at_least.
    relative_change: Decimal | None = None
    # "43 000 på helår": t is a full-year figure, pro-rated for year-to-date periods.
    annual: bool = False

    def __post_init__(self) -> None:
        # Reject specs that evaluate() could only answer by guessing; they are config errors.
        # Accept the plain strings stored in the database / YAML.
        kind = TargetKind(self.kind)
        object.__setattr__(self, "kind", kind)
        if kind in _THRESHOLD_KINDS and self.value is None:
            raise ValueError(f"a target of kind {kind} needs a value")
        if kind not in _THRESHOLD_KINDS and self.value is not None:
            raise ValueError(f"a target of kind {kind} takes no value (got {self.value})")
        if self.band is not None and self.band < 0:
            raise ValueError(f"band must not be negative (got {self.band})")
        if kind not in _CHANGE_KINDS:
            if self.relative_change is not None:
                raise ValueError("relative_change only applies to increase/decrease targets")
            if self.base_year is not None:
                raise ValueError("base_year only applies to increase/decrease targets")
        if self.relative_change is not None:
            if self.relative_change <= 0:
                raise ValueError(f"relative_change must be positive (got {self.relative_change})")
            if kind == TargetKind.DECREASE and self.relative_change > 1:
                raise ValueError(f"cannot decrease by more than 100 % (got {self.relative_change})")
        if self.annual and kind not in _THRESHOLD_KINDS:
            raise ValueError("annual only applies to at_least/at_most targets")


def _check_months(months_elapsed: int) -> None:
    if not 1 <= months_elapsed <= MONTHS_PER_YEAR:
        raise ValueError(f"months_elapsed must be 1..12 (got {months_elapsed})")


def default_band(kind: TargetKind, value: Decimal | None) -> Decimal:
    """10 % of |t| for at_least/at_most; 0 for increase/decrease and none."""
    if kind in _THRESHOLD_KINDS and value is not None:
        return abs(value) * DEFAULT_BAND_SHARE
    return ZERO


def effective_threshold(
    spec: TargetSpec, *, reference: Decimal | None, months_elapsed: int = 12
) -> Decimal | None:
    """The figure the value is compared with, or None when it cannot be known.

    at_least/at_most: t, pro-rated when annual. Relative change: reference * (1 -/+ x).
    Plain increase/decrease: the reference itself (the value must move away from it).
    """
    _check_months(months_elapsed)
    if spec.kind in _THRESHOLD_KINDS:
        assert spec.value is not None  # guaranteed by TargetSpec
        if spec.annual and months_elapsed < MONTHS_PER_YEAR:
            # Year-to-date values are compared with the same share of the full-year target.
            return spec.value * months_elapsed / MONTHS_PER_YEAR
        return spec.value
    if spec.kind in _CHANGE_KINDS:
        if reference is None:
            return None
        if spec.relative_change is None:
            return reference
        sign = -1 if spec.kind == TargetKind.DECREASE else 1
        return reference * (ONE + sign * spec.relative_change)
    return None


def _against_threshold(value: Decimal, t: Decimal, band: Decimal, *, at_least: bool) -> Status:
    # Written as a shortfall so at_least and at_most share one rule;
    # a value exactly on the band edge is still partly (>= / <=).
    shortfall = t - value if at_least else value - t
    if shortfall <= 0:
        return Status.FULFILLED
    if shortfall <= band:
        return Status.PARTLY
    return Status.NOT_FULFILLED


def evaluate(
    spec: TargetSpec,
    value: Decimal | None,
    *,
    reference: Decimal | None = None,
    months_elapsed: int = 12,
) -> Status:
    """Goal fulfilment of one value (one org unit x period x breakdown)."""
    # "Följs upp" is never judged, whether or not a value came in.
    if spec.kind == TargetKind.NONE:
        return Status.NOT_ASSESSED
    if value is None:
        return Status.NO_DATA
    t = effective_threshold(spec, reference=reference, months_elapsed=months_elapsed)
    if t is None:  # increase/decrease without a reference value
        return Status.NO_DATA

    if spec.kind in _THRESHOLD_KINDS or spec.relative_change is not None:
        # A relative change becomes an ordinary threshold once t is known.
        at_least = spec.kind in (TargetKind.AT_LEAST, TargetKind.INCREASE)
        kind = TargetKind.AT_LEAST if at_least else TargetKind.AT_MOST
        band = spec.band if spec.band is not None else default_band(kind, t)
        return _against_threshold(value, t, band, at_least=at_least)

    # Plain increase/decrease: move the right way by more than band; within band is partly.
    band = spec.band if spec.band is not None else default_band(spec.kind, None)
    gain = value - t if spec.kind == TargetKind.INCREASE else t - value
    if gain > band:
        return Status.FULFILLED
    if gain < -band:
        return Status.NOT_FULFILLED
    return Status.PARTLY


def combine(statuses: Iterable[Status]) -> Status:
    """One status from the per-breakdown statuses (e.g. K and M)."""
    given = list(statuses)
    assessed = [s for s in given if s not in (Status.NOT_ASSESSED, Status.NO_DATA)]
    if not assessed:
        return Status.NO_DATA if Status.NO_DATA in given else Status.NOT_ASSESSED
    if all(s == Status.FULFILLED for s in assessed):
        return Status.FULFILLED
    if all(s == Status.NOT_FULFILLED for s in assessed):
        return Status.NOT_FULFILLED
    return Status.PARTLY


def indicator_status(
    breakdown_statuses: Mapping[str, Status], *, breakdown_specific: bool
) -> Status:
    """Status of an indicator for one org unit and period.

    With per-breakdown targets every breakdown counts; otherwise the target is about the
    total, and the other breakdowns only stand in when no total was reported.
    """
    if not breakdown_specific and "total" in breakdown_statuses:
        return breakdown_statuses["total"]
    return combine(breakdown_statuses.values())


def trend(
    value: Decimal | None,
    previous: Decimal | None,
    direction: Direction,
    *,
    band: Decimal = ZERO,
    target: Decimal | None = None,
) -> Trend:
    """Development against the same period one year earlier, read through the direction."""
    if type(direction) is not Direction:
        direction = Direction(direction)  # a stray string must fail loudly, not default
    if band < 0:
        raise ValueError(f"band must not be negative (got {band})")
    if value is None or previous is None:
        return Trend.NO_DATA
    if direction == Direction.CLOSER_TO_TARGET:
        if target is None:
            return Trend.NO_DATA
        # Getting closer is the gain: a shrinking distance is an improvement.
        gain = abs(previous - target) - abs(value - target)
    elif direction == Direction.LOWER_IS_BETTER:
        gain = previous - value
    else:
        gain = value - previous
    if gain > band:
        return Trend.IMPROVED
    if gain < -band:
        return Trend.WORSENED
    return Trend.UNCHANGED


def combine_trends(trends: Iterable[Trend]) -> Trend:
    """One trend from per-breakdown trends; mixed movements read as unchanged."""
    known = [t for t in trends if t != Trend.NO_DATA]
    if not known:
        return Trend.NO_DATA
    if all(t == Trend.IMPROVED for t in known):
        return Trend.IMPROVED
    if all(t == Trend.WORSENED for t in known):
        return Trend.WORSENED
    return Trend.UNCHANGED


# Fractions, not floats, so that a mean of exactly 0.75 or 0.40 hits the threshold.
ROLLUP_SCORES: Mapping[Status, Fraction] = MappingProxyType(
    {
        Status.FULFILLED: Fraction(1),
        Status.PARTLY: Fraction(1, 2),
        Status.NOT_FULFILLED: Fraction(0),
    }
)
ROLLUP_FULFILLED_AT = Fraction(3, 4)
ROLLUP_PARTLY_AT = Fraction(2, 5)


def rollup(statuses: Iterable[Status]) -> Status:
    """Suggested status for a perspective from its assessed indicators."""
    scores = [ROLLUP_SCORES[s] for s in statuses if s in ROLLUP_SCORES]
    if not scores:
        return Status.NO_DATA
    mean = sum(scores, Fraction(0)) / len(scores)
    if mean >= ROLLUP_FULFILLED_AT:
        return Status.FULFILLED
    if mean >= ROLLUP_PARTLY_AT:
        return Status.PARTLY
    return Status.NOT_FULFILLED


def status_after_override(computed: Status, override: Status | None, comment: str | None) -> Status:
    """The status to show: the manual override if any, else the computed one.

    An override must say why, so one without a comment is refused.
    """
    if override is None:
        return computed
    if not (comment or "").strip():
        raise ValueError("a manual status override needs a comment explaining why")
    return Status(override)


# --------------------------------------------------------------------------- what a report shows


class ReportStatus(StrEnum):
    """What a report says in an indicator's status column: its status, or why it has none.

    The first five are Status codes (stored, and in frozen reports); the other two are read
    from the value, the period and the follow-up, never stored on an assessment.
    """

    FULFILLED = "fulfilled"
    PARTLY = "partly"
    NOT_FULFILLED = "not_fulfilled"
    NO_DATA = "no_data"  # no value yet, though one is due and a target would judge it
    NO_REFERENCE = "no_reference"  # a value, but no earlier one to measure the change against
    NOT_DUE = "not_due"  # not followed up in this period (an ÅR indicator in a tertial)
    NOT_ASSESSED = "not_assessed"  # followed up only: no target judges it


_JUDGED = frozenset({Status.FULFILLED, Status.PARTLY, Status.NOT_FULFILLED})


def report_status(
    status: str | None, *, has_value: bool, due: bool, assessable: bool
) -> ReportStatus:
    """The state a report shows for an indicator or one of its breakdowns.

    `status`: the stored status (an override where set), None without an assessment;
    `has_value`: a value is shown; `due`: the period is one the indicator is followed up
    in (Period.is_due); `assessable`: a target would judge a value (used without a status).
    A judged status always shows, whatever the period; a value that a change target
    ("Öka", "Minska jämfört med 2021") cannot judge lacks its reference, not its value.
    """
    if status in _JUDGED:
        return ReportStatus(status)
    if has_value:
        # A value the rules could not judge: a change target without its reference.
        if status == Status.NO_DATA:
            return ReportStatus.NO_REFERENCE
        return ReportStatus.NOT_ASSESSED
    if not due:
        return ReportStatus.NOT_DUE
    if status == Status.NOT_ASSESSED or (status is None and not assessable):
        return ReportStatus.NOT_ASSESSED
    return ReportStatus.NO_DATA


def has_deciding_value(breakdowns: Iterable[str], with_value: Collection[str]) -> bool:
    """Whether the values that decide an indicator's status came in: the total where the
    indicator has one (as indicator_status: the other breakdowns stand beside it), else any."""
    breakdowns = list(breakdowns)
    if "total" in breakdowns:
        return "total" in with_value
    return any(b in with_value for b in breakdowns)


def report_trend(trend: str | None, *, has_value: bool) -> str:
    """The development a report shows: a movement, "no_data" when a value has nothing a year
    earlier to compare with, and "" without a value (nothing to compare)."""
    if trend in (Trend.IMPROVED, Trend.UNCHANGED, Trend.WORSENED):
        return str(trend)
    return Trend.NO_DATA.value if has_value else ""
