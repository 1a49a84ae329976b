"""An XLSX file is a ZIP archive: what it unpacks to is checked before any XML is parsed.

A few hundred KiB can unpack to gigabytes (a "zip bomb"), and the XML parser holds some
parts whole in memory. Everything here reads only the archive's directory and a few small
parts; the declared sizes can be trusted because Python's zipfile never returns more than
a member declares (it stops at the declared size, and the CRC check fails).
"""

from __future__ import annotations

import re
import struct
import zipfile
from posixpath import dirname, join, normpath
from typing import BinaryIO

from domain.exchange.format import Limits, OverLimit

_END = b"PK\x05\x06"  # end of central directory record
_END_SIZE = 22
_MAX_COMMENT = 0xFFFF
# A directory entry is 46 bytes and the member's name; workbook names are short.
_DIRECTORY_BYTES_PER_MEMBER = 46 + 512
# Ratios are judged on members (and archives) of at least this size: small XML parts such
# as styles compress far better than data, and cannot hurt.
_RATIO_FLOOR = 1 << 20
# The parts of a workbook that are read as a stream rather than whole.
_STREAMED = re.compile(r"^xl/worksheets/[^/]+\.xml$")
# Enough of workbook.xml, its relationships and a sheet's start to find the dimension.
_HEAD_BYTES = 1 << 16

_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\s\w+:id=\"([^\"]*)\"")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"(\w+)=\"([^\"]*)\"")
_CELL = rb"\$?([A-Z]{1,3})\$?(\d+)"
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"" + _CELL + rb"(?::" + _CELL + rb")?\"")


def check_xlsx(source: BinaryIO, limits: Limits) -> None:
    """Raise OverLimit if the archive has too many members, a member unpacks to too much
    or is compressed more than a workbook ever is, or the first sheet declares more rows
    or columns than allowed. An archive that is not a readable ZIP passes: the workbook
    reader refuses it with its own message. Leaves `source` where it was."""
    start = source.tell()
    try:
        _check_directory_size(source, limits)
        source.seek(start)
        try:
            archive = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return
        with archive:
            members = archive.infolist()
            _check_members(members, limits)
            _check_dimension(archive, limits)
    finally:
        source.seek(start)


def _check_directory_size(source: BinaryIO, limits: Limits) -> None:
    """Count the members from the end record, before zipfile reads the whole directory
    into memory (millions of tiny members would cost gigabytes of bookkeeping)."""
    source.seek(0, 2)
    size = source.tell()
    tail_size = min(size, _END_SIZE + _MAX_COMMENT)
    source.seek(size - tail_size)
    tail = source.read(tail_size)
    at = tail.rfind(_END)
    if at < 0 or len(tail) - at < _END_SIZE:
        return  # not a ZIP end record: zipfile says so
    # After the signature: disk numbers (2 x 2 bytes), entries on this disk, entries in all
    # (2 bytes each), the directory's size (4 bytes).
    entries, directory_bytes = struct.unpack("<HL", tail[at + 10 : at + 16])
    if entries > limits.xlsx_members or entries == 0xFFFF:  # 0xFFFF: ZIP64, never a workbook
        found = None if entries == 0xFFFF else entries
        raise OverLimit(row=0, kind="xlsx_members", allowed=limits.xlsx_members, found=found)
    if directory_bytes > limits.xlsx_members * _DIRECTORY_BYTES_PER_MEMBER:
        # The count can lie; zipfile reads as many entries as the directory's size holds.
        raise OverLimit(row=0, kind="xlsx_members", allowed=limits.xlsx_members, found=None)


def _check_members(members: list[zipfile.ZipInfo], limits: Limits) -> None:
    if len(members) > limits.xlsx_members:
        raise OverLimit(row=0, kind="xlsx_members", allowed=limits.xlsx_members, found=len(members))
    unpacked = packed = 0
    for member in members:
        streamed = bool(_STREAMED.match(member.filename))
        allowed = limits.xlsx_sheet_bytes if streamed else limits.xlsx_part_bytes
        kind = "xlsx_sheet_bytes" if streamed else "xlsx_part_bytes"
        if member.file_size > allowed:
            raise OverLimit(
                row=0, kind=kind, allowed=allowed, found=member.file_size, part=member.filename
            )
        ratio = _ratio(member.file_size, member.compress_size)
        if ratio > limits.xlsx_ratio:
            raise OverLimit(
                row=0, kind="xlsx_ratio", allowed=limits.xlsx_ratio, found=ratio,
                part=member.filename,
            )  # fmt: skip
        unpacked += member.file_size
        packed += member.compress_size
    ratio = _ratio(unpacked, packed)
    if ratio > limits.xlsx_ratio:  # many members, each just under the ratio
        raise OverLimit(row=0, kind="xlsx_ratio", allowed=limits.xlsx_ratio, found=ratio)


def _ratio(unpacked: int, packed: int) -> int:
    if unpacked < _RATIO_FLOOR:
        return 0
    return unpacked // max(packed, 1)


def _check_dimension(archive: zipfile.ZipFile, limits: Limits) -> None:
    """The first sheet's declared size (<dimension ref="A1:H100">), as the reader takes
    the first sheet. It may be missing or understate (the reader counts rows anyway);
    one that states more than allowed is refused before a row is parsed."""
    sheet = _first_sheet(archive)
    if sheet is None:
        return
    with archive.open(sheet) as handle:
        head = handle.read(_HEAD_BYTES)
    found = _DIMENSION.search(head)
    if found is None:
        return
    last_column, last_row = found.group(3, 4) if found.group(3) else found.group(1, 2)
    rows, columns = int(last_row), _column_number(last_column.decode())
    if rows > limits.rows:
        raise OverLimit(row=0, kind="sheet_rows", allowed=limits.rows, found=rows)
    if columns > limits.columns:
        raise OverLimit(row=0, kind="sheet_columns", allowed=limits.columns, found=columns)


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names or "xl/_rels/workbook.xml.rels" not in names:
        return None
    sheet = _SHEET.search(_head(archive, "xl/workbook.xml"))
    if sheet is None:
        return None
    for relationship in _RELATIONSHIP.finditer(_head(archive, "xl/_rels/workbook.xml.rels")):
        attributes = dict(_ATTRIBUTE.findall(relationship.group(1)))
        if attributes.get(b"Id") == sheet.group(1):
            target = attributes.get(b"Target", b"").decode("utf-8", "replace")
            path = target.lstrip("/") if target.startswith("/") else join("xl", target)
            path = normpath(path)
            return path if path in names and dirname(path) else None
    return None


def _head(archive: zipfile.ZipFile, name: str) -> bytes:
    # workbook.xml lists the sheets first, after a few namespace declarations.
    with archive.open(name) as handle:
        return handle.read(_HEAD_BYTES)


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
