"""Stored text as spreadsheet cells: every export writes it, none fails on it, none runs it.

Text is data. Two things in it must not reach a spreadsheet as they are:

- Control characters XML 1.0 cannot hold (openpyxl raises IllegalCharacterError and the
  whole export fails). Word's manual line break (Shift+Enter, `\\x0b`) and page break
  (`\\x0c`) become a line break, which is what the writer meant; any other such character
  becomes U+FFFD (the replacement character), so the reader sees that something was there.
- Formulas (OWASP "CSV injection"): text starting with `=`, `+`, `@`, tab or CR, or `-` unless
  the whole text is a negative number, would be run by Excel. XLSX cells holding text are
  typed as strings; CSV cells get a leading `'`, which the importer takes off again
  (`unescape_formula`), so an export read back gives the same text.
"""

from __future__ import annotations

import re

# The characters openpyxl refuses (XML 1.0 allows tab, LF and CR only below U+0020), as the
# inside of a character class.
XML_ILLEGAL = "\x00-\x08\x0b\x0c\x0e-\x1f"
_ILLEGAL = re.compile(f"[{XML_ILLEGAL}]")
_LINE_BREAKS = {"\x0b": "\n", "\x0c": "\n"}
REPLACEMENT = "\ufffd"

_FORMULA_START = frozenset("=+@\t\r")
# A `-` text that is a negative number ("-3", "-0,5", "-12 %"), not a formula ("-1+cmd|...").
# ASCII digits and a fixed set of spaces (with the no-break ones Swedish text puts before
# %): PostgreSQL's CSV exports (api.copy_csv) apply the same pattern.
NEGATIVE_NUMBER_PATTERN = r"-[0-9.,]+(?:[eE][+-]?[0-9]+)?[ \t\n\r\f\v\u00a0\u202f]*%?"
_NEGATIVE_NUMBER = re.compile(NEGATIVE_NUMBER_PATTERN)


def xml_safe(text: str) -> str:
    """`text` without the control characters XLSX cannot store (see the module docstring)."""
    if not _ILLEGAL.search(text):
        return text
    return _ILLEGAL.sub(lambda match: _LINE_BREAKS.get(match.group(), REPLACEMENT), text)


def runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet would take `text`, typed or opened from CSV, as a formula."""
    if not text:
        return False
    first = text[0]
    if first in _FORMULA_START:
        return True
    return first == "-" and len(text) > 1 and not _NEGATIVE_NUMBER.fullmatch(text)


def escape_formula(text: str) -> str:
    """CSV text that no spreadsheet runs: `=A1` -> `'=A1`; `unescape_formula` reverses it.

    Text that already starts with quotes before a formula start gets one more quote, so
    unescaping is exact for every text, not just for text without a leading quote.
    """
    return "'" + text if runs_as_formula(text.lstrip("'")) else text


def unescape_formula(text: str) -> str:
    """The text `escape_formula` was given (text it left alone comes back unchanged)."""
    if text.startswith("'") and runs_as_formula(text.lstrip("'")):
        return text[1:]
    return text


def xlsx_value(sheet, value: object) -> object:
    """A value for `sheet.append`: text as a string cell, never a formula; other values as is.

    Works for write-only and ordinary worksheets alike.
    """
    if not isinstance(value, str):
        return value
    from openpyxl.cell import Cell  # imported here: readers of this module stay light

    # row and column are placeholders: append() puts the cell in its place.
    cell = Cell(sheet, row=1, column=1, value=xml_safe(value))
    cell.data_type = "s"  # openpyxl makes "=..." a formula ("f"); text stays text
    return cell
