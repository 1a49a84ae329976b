"""What makes the numbers of a measurement valid, wherever they come from.

The form, the API, the admin, the editing services and the import all ask here, each
saying it in its own words where it must (Swedish beside a form field).
"""

from __future__ import annotations

from decimal import Decimal

from domain.messages import Message

# The columns are numeric(20, 6): at most 14 digits before the decimal point.
LARGEST = Decimal("1e14")
# A share given as numerator/denominator may differ from the stated value by rounding.
SHARE_TOLERANCE = Decimal("0.05")

NUMBER_FIELDS = ("value", "numerator", "denominator")


def number_problems(
    *,
    value: Decimal | None = None,
    numerator: Decimal | None = None,
    denominator: Decimal | None = None,
) -> dict[str, Message]:
    """What is wrong with the numbers, by field; empty when nothing is.

    Every number fits the columns, and a denominator is greater than 0 (a share of
    nothing is no share, and the database refuses it too).
    """
    numbers = {"value": value, "numerator": numerator, "denominator": denominator}
    problems = {
        name: Message(
            "too_large", "{number} is too large (at most 14 integer digits)", number=number
        )
        for name, number in numbers.items()
        if number is not None and abs(number) >= LARGEST
    }
    if denominator is not None and "denominator" not in problems:
        if denominator == 0:
            problems["denominator"] = Message("denominator_zero", "denominator is 0")
        elif denominator < 0:
            problems["denominator"] = Message(
                "denominator_negative",
                "denominator {denominator} is negative",
                denominator=denominator,
            )
    return problems


def share_of(numerator: Decimal, denominator: Decimal, *, percent: bool) -> Decimal:
    """The value a numerator and denominator give: a ratio, or a percentage."""
    share = numerator / denominator
    return share * 100 if percent else share


def matches_share(
    value: Decimal, numerator: Decimal, denominator: Decimal, *, percent: bool
) -> bool:
    """Whether a stated value agrees with its numerator and denominator, up to rounding."""
    return abs(share_of(numerator, denominator, percent=percent) - value) <= SHARE_TOLERANCE
