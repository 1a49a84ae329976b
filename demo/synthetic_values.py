"""The synthetic data's value model: indicator kinds, their targets and monthly figures.

No database here: given a kind, a seeded random generator and a number of years, the same
figures come out every time. demo.synthetic writes them, summed up the organisation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from domain.rules import Direction, TargetKind
from indicators.catalogue import TargetRow
from indicators.models import Unit

# Relative monthly volume (summer holidays, Christmas) so that month series look real.
SEASON = (1.05, 1.05, 1.0, 1.0, 0.95, 0.85, 0.65, 0.8, 1.0, 1.05, 1.05, 0.9)
SUMMER_DIP = (0, 0, 0, 0, 0, 1, 2, 1, 0, 0, 0, 0)  # shares get worse when staff are on leave


@dataclass(frozen=True)
class Kind:
    """One kind of synthetic indicator: its definition, targets and value model."""

    key: str
    unit: str
    direction: str
    share: bool
    target_kind: str
    per_breakdown: bool = False
    # Value model: share levels in percent (women, men); counts per month and sex.
    level: tuple[float, float] = (0.0, 0.0)
    spread: float = 0.0  # between units
    drift: tuple[float, float] = (0.0, 0.0)  # yearly trend: mean, spread between units
    noise: float = 0.0  # month to month
    volume: tuple[int, int] = (0, 0)  # denominator (shares) or count (counts) per month

    def targets(self, year_index: int) -> list[TargetRow]:
        if self.target_kind == TargetKind.AT_LEAST:
            value = Decimal(85 + min(year_index, 5))  # a target that tightens year by year
            return [TargetRow("", TargetKind.AT_LEAST, value, text=f"Minst {value} %")]
        if self.target_kind == TargetKind.AT_MOST and self.per_breakdown:
            women = Decimal("7.5") - Decimal("0.2") * min(year_index, 5)
            men = Decimal("5.0") - Decimal("0.1") * min(year_index, 5)
            text = f"K: {_sv(women)} % M: {_sv(men)} %"
            return [
                TargetRow("women", TargetKind.AT_MOST, women, text=text),
                TargetRow("men", TargetKind.AT_MOST, men, text=text),
            ]
        if self.target_kind == TargetKind.AT_MOST:
            return [TargetRow("", TargetKind.AT_MOST, Decimal(12), text="Högst 12 %")]
        if self.target_kind == TargetKind.INCREASE:
            return [TargetRow("", TargetKind.INCREASE, None, text="Öka")]
        if self.target_kind == TargetKind.DECREASE:
            return [TargetRow("", TargetKind.DECREASE, None, text="Minska")]
        return [TargetRow("", TargetKind.NONE, None, text="Följs upp")]


# Cycled through per division, so any 6 consecutive indicators cover every target kind;
# levels sit around the targets so that some units fulfil them, some partly, some not.
KINDS: tuple[Kind, ...] = (
    Kind(
        "share_at_least",
        Unit.PERCENT,
        Direction.HIGHER_IS_BETTER,
        True,
        TargetKind.AT_LEAST,
        level=(86.0, 84.0),
        spread=6.0,
        drift=(0.4, 1.2),
        noise=2.5,
        volume=(30, 300),
    ),
    Kind(
        "count_increase",
        Unit.COUNT,
        Direction.HIGHER_IS_BETTER,
        False,
        TargetKind.INCREASE,
        drift=(0.015, 0.05),
        noise=0.12,
        volume=(40, 800),
    ),
    Kind(
        "share_km_at_most",
        Unit.PERCENT,
        Direction.LOWER_IS_BETTER,
        True,
        TargetKind.AT_MOST,
        per_breakdown=True,
        level=(7.8, 5.2),
        spread=1.2,
        drift=(-0.1, 0.4),
        noise=0.8,
        volume=(2000, 20000),
    ),
    Kind(
        "count_decrease",
        Unit.COUNT,
        Direction.LOWER_IS_BETTER,
        False,
        TargetKind.DECREASE,
        drift=(-0.03, 0.08),
        noise=0.25,
        volume=(3, 40),
    ),
    Kind(
        "count_none",
        Unit.COUNT,
        Direction.HIGHER_IS_BETTER,
        False,
        TargetKind.NONE,
        drift=(0.03, 0.05),
        noise=0.1,
        volume=(100, 2000),
    ),
    Kind(
        "share_at_most",
        Unit.PERCENT,
        Direction.LOWER_IS_BETTER,
        True,
        TargetKind.AT_MOST,
        level=(11.5, 12.5),
        spread=3.0,
        drift=(-0.2, 0.8),
        noise=1.5,
        volume=(20, 200),
    ),
)


def _sv(number: Decimal) -> str:
    return f"{number:.1f}".replace(".", ",")


def leaf_series(kind: Kind, rng: random.Random, years: int) -> list[list[list[int]]]:
    """[year][channel][month] integers for one leaf unit.

    Channels: shares (women num, women den, men num, men den); counts (women, men).
    """
    params = []
    for sex in range(2):
        params.append(
            (
                kind.level[sex] + rng.gauss(0, kind.spread),  # share level, percent
                rng.gauss(*kind.drift),  # pp per year (shares) or growth rate (counts)
                rng.randint(*kind.volume),
            )
        )
    series = []
    for y in range(years):
        channels: list[list[int]] = []
        for level, drift, volume in params:
            if kind.share:
                nums, dens = [], []
                # Summer staffing makes every share worse: lower if higher is better.
                worse = -1.0 if kind.direction == Direction.LOWER_IS_BETTER else 1.0
                for m in range(12):
                    den = max(1, int(volume * SEASON[m] * rng.uniform(0.85, 1.15)))
                    pct = level + drift * y - worse * SUMMER_DIP[m] + rng.gauss(0, kind.noise)
                    pct = min(max(pct, 0.0), 100.0)
                    nums.append(min(den, int(den * pct / 100 + 0.5)))
                    dens.append(den)
                channels += [nums, dens]
            else:
                base = volume * (1 + drift) ** y
                channels.append(
                    [
                        max(0, int(base * SEASON[m] * (1 + rng.gauss(0, kind.noise)) + 0.5))
                        for m in range(12)
                    ]
                )
        series.append(channels)
    return series


def periods_of(year: int) -> list[tuple[str, int, int]]:
    """(code, first month index, end month index) of each period; tertials are year-to-date."""
    periods = [(str(year), 0, 12)]
    periods += [(f"{year}-T{t}", 0, 4 * t) for t in (1, 2, 3)]
    periods += [(f"{year}-{m:02d}", m - 1, m) for m in range(1, 13)]
    return periods


def share_percent(num: int, den: int) -> Decimal:
    # 100 * num / den rounded half up to one decimal, in integers so it is exact.
    return Decimal((2000 * num + den) // (2 * den)).scaleb(-1)
