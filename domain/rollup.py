"""Figures that add up the organisation tree, and which units each one covers.

Pure: the caller gives the tree (parent -> children codes), the figures units reported and
how the indicator aggregates; roll_up returns, for every unit with children, the figure its
children add up to and the leaf units behind it. A unit's own reported figure wins over its
children's sum where both exist (the caller shows both), and then stands for every leaf
under it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import NamedTuple

_PLACES = Decimal("0.000001")  # what the database keeps (decimal_places=6)


class Aggregation(StrEnum):
    SUM = "sum"  # counts, amounts: the children's values added
    RATIO = "ratio"  # shares: summed numerators over summed denominators
    WEIGHTED_MEAN = "weighted_mean"  # means (a waiting time): weighted by the denominator
    NONE = "none"  # not aggregable: only reported figures count at each level


class Figure(NamedTuple):
    # A named tuple, not a frozen dataclass: roll-ups build one per stored value (a million
    # for a large import), and a tuple is made several times faster.
    value: Decimal
    numerator: Decimal | None = None
    denominator: Decimal | None = None


@dataclass(frozen=True)
class Rollup:
    """What a unit's children add up to, and the leaf units it covers out of those expected."""

    figure: Figure
    covered: tuple[str, ...]
    expected: tuple[str, ...]

    @property
    def missing(self) -> tuple[str, ...]:
        covered = set(self.covered)
        return tuple(code for code in self.expected if code not in covered)

    @property
    def complete(self) -> bool:
        return len(self.covered) == len(self.expected)


def roll_up(
    children: Mapping[str, Sequence[str]],
    root: str,
    figures: Mapping[str, Figure],
    how: Aggregation,
    *,
    percent: bool = False,
    reporters: Collection[str] | None = None,
) -> dict[str, Rollup]:
    """Every unit with children under (and including) `root` -> what its children add up to.

    `children`: unit -> its children (the units that existed in the period); a unit without
    children is a leaf. `figures`: what units reported. `percent`: a share is shown in
    per cent (numerator / denominator x 100). A unit none of whose children contribute gets
    no entry. A child contributes its own figure, else its children's sum; a share or mean
    without its numerator or denominator cannot be added up and counts as missing.

    `reporters`: the units that report the indicator at all (in any period); only they are
    expected, so a surgery waiting time is not "missing" at a psychiatric clinic. A unit
    with children that reports while none below it does stands for itself. None: every
    leaf is expected.
    """
    result: dict[str, Rollup] = {}
    if how is Aggregation.NONE:
        return result
    scale = Decimal(100) if percent else Decimal(1)

    # Iterative post-order walk: a region is a few hundred units, but a deep chain of
    # reorganised units must not reach Python's recursion limit either.
    order: list[str] = []
    stack = [root]
    while stack:
        code = stack.pop()
        order.append(code)
        stack.extend(children.get(code) or ())
    effective: dict[str, tuple[Figure, tuple[str, ...]]] = {}
    expected_of: dict[str, tuple[str, ...]] = {}
    for code in reversed(order):
        kids = children.get(code) or ()
        below = tuple(leaf for kid in kids for leaf in expected_of[kid])
        if below:
            expected_of[code] = below
        elif reporters is None or code in reporters or code in figures:
            expected_of[code] = (code,)
        else:
            expected_of[code] = ()
        own = figures.get(code)
        parts = [effective[kid] for kid in kids if kid in effective]
        parts = [(f, c) for f, c in parts if _addable(f, how)]
        if kids and parts:
            figure = _combine([f for f, _ in parts], how, scale)
            covered = tuple(leaf for _, c in parts for leaf in c)
            if figure is not None:
                result[code] = Rollup(figure, covered, expected_of[code])
        if own is not None:
            effective[code] = (own, expected_of[code])
        elif code in result:
            effective[code] = (result[code].figure, result[code].covered)
    return result


def adds_up(breakdown: str) -> bool:
    """Whether a breakdown is the figure itself (total, women, men, age groups) rather than
    context written beside it (the counts beside a share, a share beside a count), which
    is not added up."""
    return not breakdown.startswith(("share", "count"))


def _addable(figure: Figure, how: Aggregation) -> bool:
    if how is Aggregation.RATIO:
        return figure.numerator is not None and bool(figure.denominator)
    if how is Aggregation.WEIGHTED_MEAN:
        return bool(figure.denominator)
    return True


def _combine(parts: list[Figure], how: Aggregation, scale: Decimal) -> Figure | None:
    if how is Aggregation.SUM:
        return Figure(_round(sum((f.value for f in parts), Decimal(0))))
    denominator = sum((f.denominator for f in parts), Decimal(0))  # type: ignore[misc]
    if not denominator:
        return None
    if how is Aggregation.RATIO:
        numerator = sum((f.numerator for f in parts), Decimal(0))  # type: ignore[misc]
        return Figure(_round(numerator / denominator * scale), numerator, denominator)
    weighted = sum((f.value * f.denominator for f in parts), Decimal(0))  # type: ignore[operator]
    return Figure(_round(weighted / denominator), None, denominator)


def _round(number: Decimal) -> Decimal:
    return number.quantize(_PLACES, rounding=ROUND_HALF_EVEN)
