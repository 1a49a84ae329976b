"""Kolada's v3 answers as plain data, and the rules of the national comparison.

Kolada (Rådet för främjande av kommunala analyser, RKA) publishes key figures (KPIs) per
municipality, region and the whole country under CC BY 4.0. Every answer of its v3 API is
`{"values": [...], "count": n, "next_page": url | null, "previous_page": url | null}`; a
data row is `{"kpi", "municipality", "period", "values": [{"gender": "T"|"K"|"M", "count",
"status", "value"}]}`, a KPI `{"id", "title", "publication_date", "is_divided_by_gender",
"municipality_type", ...}`. Everything that arrives is checked here, field by field: a
malformed or hostile answer is a KoladaFormatError that names the place, never a half-read
value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

KOLADA_KPI_REGEX = r"^[A-Z][0-9]{5}$"
AREA_REGEX = r"^[0-9]{4}$"  # municipalities 0114..2584, regions 0001..0025, the country 0000
COUNTRY = "0000"
GENDERS = ("T", "K", "M")  # total, kvinnor, män
MAX_TEXT = 2000  # a title or status longer than this is not Kolada's


class KoladaFormatError(ValueError):
    """An answer that is not in Kolada's documented format."""


@dataclass(frozen=True)
class KpiMeta:
    id: str
    title: str
    publication_date: date | None
    is_divided_by_gender: bool
    municipality_type: str


@dataclass(frozen=True)
class DataValue:
    kpi: str
    area: str
    year: int
    gender: str
    value: Decimal | None
    count: int
    status: str


@dataclass(frozen=True)
class Page:
    values: list
    next_page: str | None


def is_kpi_id(text: object) -> bool:
    return isinstance(text, str) and re.fullmatch(KOLADA_KPI_REGEX, text) is not None


def is_area_id(text: object) -> bool:
    return isinstance(text, str) and re.fullmatch(AREA_REGEX, text) is not None


def parse_page(payload: object, where: str) -> Page:
    if not isinstance(payload, Mapping):
        raise KoladaFormatError(f"{where}: the answer is not a JSON object")
    values = payload.get("values")
    if not isinstance(values, list):
        raise KoladaFormatError(f"{where}: 'values' is missing or not a list")
    count = payload.get("count")
    if count is not None and (not _is_int(count) or count != len(values)):
        raise KoladaFormatError(f"{where}: 'count' {count!r} is not the number of values")
    next_page = payload.get("next_page")
    if next_page is not None and (not isinstance(next_page, str) or not next_page):
        raise KoladaFormatError(f"{where}: 'next_page' is not a URL")
    return Page(values=values, next_page=next_page or None)


def parse_kpi(entry: object, where: str) -> KpiMeta:
    if not isinstance(entry, Mapping):
        raise KoladaFormatError(f"{where}: a KPI is not an object")
    kpi = entry.get("id")
    if not is_kpi_id(kpi):
        raise KoladaFormatError(f"{where}.id: {kpi!r} is not a Kolada KPI id")
    title = _text(entry.get("title"), f"{where}.title")
    published = entry.get("publication_date")
    publication_date = None
    if published not in (None, ""):
        if not isinstance(published, str):
            raise KoladaFormatError(f"{where}.publication_date: {published!r} is not a date")
        try:
            publication_date = date.fromisoformat(published[:10])
        except ValueError:
            raise KoladaFormatError(
                f"{where}.publication_date: {published!r} is not a date"
            ) from None
    divided = entry.get("is_divided_by_gender", 0)
    if divided not in (0, 1, True, False):
        raise KoladaFormatError(f"{where}.is_divided_by_gender: {divided!r} is not 0 or 1")
    kind = entry.get("municipality_type") or ""
    if not isinstance(kind, str) or len(kind) > 8:
        raise KoladaFormatError(f"{where}.municipality_type: {kind!r} is not a type")
    return KpiMeta(
        id=kpi,
        title=title,
        publication_date=publication_date,
        is_divided_by_gender=bool(divided),
        municipality_type=kind,
    )


def parse_data_row(entry: object, where: str, *, kpi: str, areas: Iterable[str]) -> list[DataValue]:
    """One data row as its (at most three) values; only the KPI and areas asked for."""
    if not isinstance(entry, Mapping):
        raise KoladaFormatError(f"{where}: a data row is not an object")
    if entry.get("kpi") != kpi:
        raise KoladaFormatError(f"{where}.kpi: {entry.get('kpi')!r}, asked for {kpi}")
    area = entry.get("municipality")
    if not is_area_id(area) or area not in set(areas):
        raise KoladaFormatError(f"{where}.municipality: {area!r} was not asked for")
    period = entry.get("period")
    year = int(period) if _is_int(period) else None
    if isinstance(period, str) and re.fullmatch(r"[0-9]{4}", period):
        year = int(period)
    if year is None or not 1900 <= year <= 2200:
        raise KoladaFormatError(f"{where}.period: {period!r} is not a year")
    values = entry.get("values")
    if not isinstance(values, list) or len(values) > len(GENDERS):
        raise KoladaFormatError(f"{where}.values: not a list of at most three values")
    parsed = []
    seen = set()
    for index, item in enumerate(values):
        at = f"{where}.values[{index}]"
        if not isinstance(item, Mapping):
            raise KoladaFormatError(f"{at}: not an object")
        gender = item.get("gender")
        if gender not in GENDERS or gender in seen:
            raise KoladaFormatError(f"{at}.gender: {gender!r} is not one of T, K, M once each")
        seen.add(gender)
        count = item.get("count", 1)
        if not _is_int(count) or count < 0:
            raise KoladaFormatError(f"{at}.count: {count!r} is not a count")
        status = item.get("status") or ""
        if not isinstance(status, str) or len(status) > 32:
            raise KoladaFormatError(f"{at}.status: {status!r} is not a status")
        parsed.append(
            DataValue(
                kpi=kpi,
                area=area,
                year=year,
                gender=gender,
                value=_number(item.get("value"), f"{at}.value"),
                count=count,
                status=status,
            )
        )
    return parsed


def rank(values: Mapping[str, Decimal], area: str, *, higher_is_better: bool) -> int | None:
    """The area's place among `values` (1 = best; equal values share a place), or None."""
    if area not in values:
        return None
    own = values[area]
    better = [v for v in values.values() if (v > own if higher_is_better else v < own)]
    return len(better) + 1


def latest_year(years: Sequence[int]) -> int | None:
    return max(years) if years else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise KoladaFormatError(f"{where}: not a text")
    return value.strip()


def _number(value: object, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KoladaFormatError(f"{where}: {value!r} is not a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise KoladaFormatError(f"{where}: {value!r} is not a finite number")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise KoladaFormatError(f"{where}: {value!r} is not a number") from None
    if abs(number) >= Decimal(10) ** 12:
        raise KoladaFormatError(f"{where}: {value!r} is out of range")
    return number.quantize(Decimal("0.000001"))
