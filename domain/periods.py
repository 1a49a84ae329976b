"""Report periods: year (`2022`), tertial year-to-date (`2022-T2`) and month (`2022-08`).

Plain values with no ORM: the canonical code is what the database stores, and codes of the
same kind sort chronologically as strings.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from domain.messages import Message

# Canonical codes, as the database stores them (its check constraints use this).
PERIOD_REGEX = r"^[0-9]{4}(-T[1-3]|-(0[1-9]|1[0-2]))?$"
_PERIOD_RE = re.compile(r"^\s*(\d{4})(?:\s*-\s*(?:([Tt])([1-3])|(\d{1,2})))?\s*$")


class PeriodKind(StrEnum):
    YEAR = "year"
    TERTIAL = "tertial"
    MONTH = "month"


# Canonical codes of one kind, for database filters (period__regex).
PERIOD_KIND_REGEX = {
    PeriodKind.YEAR: r"^[0-9]{4}$",
    PeriodKind.TERTIAL: r"^[0-9]{4}-T[1-3]$",
    PeriodKind.MONTH: r"^[0-9]{4}-[0-9]{2}$",
}
# Where each kind sorts within its year: months, then tertials (year-to-date), then the year.
_KIND_OFFSET = {PeriodKind.MONTH: 0, PeriodKind.TERTIAL: 50, PeriodKind.YEAR: 99}


class InvalidPeriod(ValueError):
    pass


# The report points a scorecard follows an indicator at (a placement's `follow_up`): the
# interim reports of April and August (DÅ04 = T1, DÅ08 = T2), the third tertial, the annual
# report (ÅR) and every month.
FOLLOW_UP_CODES = frozenset({"T1", "T2", "T3", "YEAR", "MONTH"})


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: PeriodKind
    number: int = 0  # tertial 1-3 or month 1-12; 0 for a year

    @classmethod
    def parse(cls, text: str | int) -> Period:
        match = _PERIOD_RE.match(str(text))
        if not match:
            raise InvalidPeriod(
                Message(
                    "not_a_period",
                    "'{text}' is not a period (use 2022, 2022-T1..2022-T3 or 2022-01..2022-12)",
                    text=text,
                )
            )
        year, tertial_mark, tertial, month = match.groups()
        if not 1900 <= int(year) <= 2999:
            raise InvalidPeriod(
                Message(
                    "year_out_of_range",
                    "'{text}': year {year} is out of range",
                    text=text,
                    year=year,
                )
            )
        if tertial_mark:
            return cls(int(year), PeriodKind.TERTIAL, int(tertial))
        if month is not None:
            if not 1 <= int(month) <= 12:
                raise InvalidPeriod(
                    Message(
                        "no_such_month",
                        "'{text}': month {month} does not exist",
                        text=text,
                        month=month,
                    )
                )
            return cls(int(year), PeriodKind.MONTH, int(month))
        return cls(int(year), PeriodKind.YEAR)

    @property
    def code(self) -> str:
        if self.kind is PeriodKind.TERTIAL:
            return f"{self.year}-T{self.number}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.number:02d}"
        return str(self.year)

    def __str__(self) -> str:
        return self.code

    @staticmethod
    def sort_key(code: str) -> tuple[int, int]:
        """A key that sorts codes of all kinds chronologically, newest last: within a year
        months, then tertials (year-to-date), then the year itself."""
        period = Period.parse(code)
        number = 4 * period.number if period.kind is PeriodKind.TERTIAL else period.number
        return (period.year, _KIND_OFFSET[period.kind] + number)

    def dates(self) -> tuple[date, date]:
        """The first and last day the period covers (tertials from January: year-to-date)."""
        if self.kind is PeriodKind.MONTH:
            return date(self.year, self.number, 1), date(
                self.year, self.number, monthrange(self.year, self.number)[1]
            )
        last = self.months_elapsed
        return date(self.year, 1, 1), date(self.year, last, monthrange(self.year, last)[1])

    def same_period_in(self, year: int) -> Period:
        return Period(year, self.kind, self.number)

    def year_before(self) -> Period:
        return self.same_period_in(self.year - 1)

    def previous(self) -> Period:
        """The period of the same kind just before: T1 after the year's T3 before it, January
        after December, last year after this one (a cell comment's draft comes from it)."""
        if self.kind is PeriodKind.YEAR:
            return Period(self.year - 1, PeriodKind.YEAR)
        last = 3 if self.kind is PeriodKind.TERTIAL else 12
        if self.number == 1:
            return Period(self.year - 1, self.kind, last)
        return Period(self.year, self.kind, self.number - 1)

    @property
    def months_elapsed(self) -> int:
        """Months of the year covered: tertial values are year-to-date."""
        if self.kind is PeriodKind.TERTIAL:
            return 4 * self.number
        if self.kind is PeriodKind.MONTH:
            return self.number
        return 12

    def is_due(self, follow_up: Iterable[str]) -> bool:
        """Whether an indicator followed up at `follow_up` (FOLLOW_UP_CODES) is reported in
        this period: an ÅR indicator is not due in a tertial, a T2 one not in T1.

        No codes: followed up every period. T3 is year-to-date to December, so it is the
        year's figure too: the annual indicators are due in T3 and T3 ones in the year.
        """
        codes = set(follow_up)
        if not codes:
            return True
        if self.kind is PeriodKind.MONTH:
            return "MONTH" in codes
        if self.kind is PeriodKind.YEAR:
            return bool(codes & {"YEAR", "T3"})
        return f"T{self.number}" in codes or (self.number == 3 and "YEAR" in codes)

    def closed_by(self) -> tuple[str, ...]:
        """The codes of the periods whose close also closes this one (docs/domain.md, Closing).

        A tertial closes the months it adds to the one before it (T1: January-April, T2:
        May-August, T3: September-December), the year all twelve; a tertial or a year is
        closed only by its own close, since each is a report of its own.
        """
        if self.kind is not PeriodKind.MONTH:
            return (self.code,)
        tertial = Period(self.year, PeriodKind.TERTIAL, (self.number - 1) // 4 + 1)
        return (self.code, tertial.code, str(self.year))

    def closes(self) -> tuple[str, ...]:
        """The codes a close of this period closes: itself and its months (see closed_by)."""
        if self.kind is PeriodKind.TERTIAL:
            months = range(4 * self.number - 3, 4 * self.number + 1)
        elif self.kind is PeriodKind.YEAR:
            months = range(1, 13)
        else:
            return (self.code,)
        return (self.code, *(Period(self.year, PeriodKind.MONTH, m).code for m in months))
