"""One cell of an exchange file to its value, as Swedish Excel writes it.

Cells are text (CSV) or typed values (XLSX); each column's converter accepts both and
raises CellError with the message the user sees for that cell.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from domain.exchange.format import format_decimal
from domain.messages import Message
from domain.periods import InvalidPeriod, Period
from domain.spreadsheet import unescape_formula

BREAKDOWN_ALIASES = {
    "": "total",
    "total": "total",
    "totalt": "total",
    "k": "women",
    "kvinnor": "women",
    "kvinna": "women",
    "women": "women",
    "m": "men",
    "män": "men",
    "man": "men",
    "men": "men",
}

# Spaces Excel and Swedish locales use as thousands separators.
_GROUP_SPACES = re.compile("[ \u00a0\u202f\u2009]")
_NUMBER_RE = re.compile(
    r"(?P<sign>[+-]?)"
    r"(?P<int>\d{1,3}(?: \d{3})+|\d+)?"
    r"(?:[.,](?P<frac>\d*))?"
    r"(?:[eE](?P<exp>[+-]?\d{1,3}))?"
)
# A subset of _NUMBER_RE that needs no rewriting but the decimal separator.
PLAIN_NUMBER_RE = re.compile(r"[+-]?\d+(?:[.,]\d+)?")
_EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!")


class CellError(Exception):
    pass


def clean_text(cell: object) -> str:
    """A cell as the text the user sees, stripped and NFC (macOS may send decomposed ä)."""
    if cell is None:
        return ""
    if type(cell) is str and cell.isascii():
        return cell.strip()  # ASCII is already NFC; this runs for every cell of every row
    if isinstance(cell, str):
        return unicodedata.normalize("NFC", cell).strip()
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))  # a code such as 1234 typed into a number cell
    if isinstance(cell, Decimal):
        return format_decimal(cell) if cell.is_finite() else str(cell)
    if isinstance(cell, datetime) and cell.time() == time():
        return cell.date().isoformat()
    if isinstance(cell, date | time):
        return cell.isoformat()
    return str(cell)


def _required_text(cell: object) -> str:
    text = clean_text(cell)
    if not text:
        raise CellError(Message("empty", "is empty"))
    return text


# Excel's own limit for the text of a cell: more is not a spreadsheet's cell (an XLSX file
# can carry hundreds of MB in one; a CSV field stops at the csv module's 128 KiB).
MAX_CELL_CHARACTERS = 32_767


def _text(cell: object) -> str:
    text = clean_text(cell)
    if len(text) > MAX_CELL_CHARACTERS:
        raise CellError(
            f"has {len(text):,} characters; a cell holds at most {MAX_CELL_CHARACTERS:,}".replace(
                ",", " "
            )
        )
    # Our CSV export quotes text a spreadsheet would run ('=...); this gives back the text.
    return unescape_formula(text)


def _required_name(cell: object) -> str:
    text = _text(cell)
    if not text:
        raise CellError(Message("empty", "is empty"))
    return text


def _period(cell: object) -> str:
    if isinstance(cell, date):
        return _period_code(f"{cell.year:04d}-{cell.month:02d}")  # Excel made "2022-08" a date
    return _period_code(_required_text(cell))


def _period_code(text: str) -> str:
    code = PERIOD_CODES.get(text)
    if code is not None:
        return code
    try:
        code = Period.parse(text).code
    except InvalidPeriod as error:
        raise CellError(error.args[0]) from None
    if len(PERIOD_CODES) >= 10_000:  # a file holds few distinct periods; bound it anyway
        PERIOD_CODES.clear()
    PERIOD_CODES[text] = code
    return code


# Period text as written -> canonical code. Parsing is pure, so the cache never goes stale.
PERIOD_CODES: dict[str, str] = {}


def _breakdown(cell: object) -> str:
    key = clean_text(cell).lower()
    return BREAKDOWN_ALIASES.get(key, key)


def _value(cell: object) -> Decimal:
    return _number(cell, _required_text(cell))


def _optional_number(cell: object) -> Decimal | None:
    text = clean_text(cell)
    return _number(cell, text) if text else None


def _number(cell: object, text: str) -> Decimal:
    if isinstance(cell, bool):
        raise CellError(_not_a_number(text))
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float | Decimal):
        if not math.isfinite(cell):
            raise CellError(_not_a_number(text))
        return Decimal(str(cell)) if isinstance(cell, float) else cell  # str(): 92.5 stays 92.5
    if isinstance(cell, date | time | timedelta):
        raise CellError(
            Message("date_not_number", "'{text}' is a date or time, not a number", text=text)
        )
    return _parse_number(text)


def _parse_number(text: str) -> Decimal:
    """Numbers as Swedish Excel writes them: `92,5`, `92,5 %`, `29 191`, `\u22123`, `+4`."""
    if PLAIN_NUMBER_RE.fullmatch(text):
        # Most cells are plain (`92.5`, `92,5`, `-3`): the same Decimal as the general path.
        return Decimal(text.replace(",", "."))
    if text.upper() in _EXCEL_ERRORS:
        raise CellError(
            Message("excel_error", "'{text}' is an Excel error, not a number", text=text)
        )
    plain = _GROUP_SPACES.sub(" ", text.replace("\u2212", "-"))
    if plain.endswith("%"):
        plain = plain[:-1].rstrip()
    if "," in plain and "." in plain:
        raise CellError(
            Message(
                "mixed_separators",
                "'{text}' mixes ',' and '.'; use one decimal separator, and a space for thousands",
                text=text,
            )
        )
    if plain.count(",") > 1 or plain.count(".") > 1:
        raise CellError(
            Message(
                "many_separators",
                "'{text}' has more than one decimal separator; use a space for thousands",
                text=text,
            )
        )
    match = _NUMBER_RE.fullmatch(plain)
    if not match or not (match["int"] or match["frac"]):
        if " " in plain:
            raise CellError(
                Message(
                    "not_a_number_spaces",
                    "'{text}' is not a number (a space may only separate groups of three digits)",
                    text=text,
                )
            )
        raise CellError(_not_a_number(text))
    number = match["sign"] + (match["int"] or "0").replace(" ", "")
    if match["frac"]:
        number += "." + match["frac"]
    if match["exp"]:
        number += "E" + match["exp"]
    try:
        return Decimal(number)
    except InvalidOperation:  # the pattern should make this impossible
        raise CellError(_not_a_number(text)) from None


def _not_a_number(text: str) -> Message:
    return Message("not_a_number", "'{text}' is not a number", text=text)


CONVERTERS = {
    "indicator": _required_name,
    "org_unit": _required_name,
    "period": _period,
    "breakdown": _breakdown,
    "value": _value,
    "numerator": _optional_number,
    "denominator": _optional_number,
    "comment": _text,
}
