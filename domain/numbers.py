"""Numbers as plain text: how the audit trail, exports, the API and previews write them."""

from __future__ import annotations

from decimal import Decimal


def plain_decimal(number: Decimal | int | float) -> str:
    """`92.5`, `100`, `0.001`: fixed point, without exponent or trailing zeros.

    Formatted digit by digit rather than with normalize(), which rounds to 28 digits.
    Floats (SQLite hands numeric columns back as floats) go by their shortest text.
    """
    if type(number) is not Decimal:  # the database's own Decimals need no copy
        number = Decimal(str(number)) if isinstance(number, float) else Decimal(number)
    if not number.is_finite():
        return str(number)
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
