"""A small client of Kolada's v3 REST API: bounded in time, size, pages and retries.

Paths (Kolada's documentation): `/kpi/{id}` (metadata), `/municipality/{ids}` (area
names), `/data/kpi/{kpi}/municipality/{ids}/year/{years}` (values; ids and years comma
separated). Each answer holds at most `per_page` (5,000) items and a `next_page` URL while
there are more. Every answer is checked by domain.kolada before anything is stored.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from domain import kolada
from domain.kolada import DataValue, KoladaFormatError, KpiMeta

KOLADA_SOURCE = "Kolada (RKA)"  # the attribution Kolada's terms ask for
USER_AGENT = "Styrkort (national comparison; https://www.kolada.se/ CC BY 4.0)"
YEARS_PER_REQUEST = 20  # Kolada refuses long year lists
AREAS_PER_REQUEST = 25


class KoladaError(Exception):
    """Kolada could not be read: unreachable, too slow, refused, or answered nonsense."""


class KoladaGone(KoladaError):
    """Kolada answers that it does not know the thing asked for (404)."""


@dataclass
class KoladaClient:
    base_url: str
    timeout: float = 10.0
    retries: int = 2  # extra attempts after the first, for timeouts, 5xx and lost connections
    backoff: float = 1.0  # seconds before the first retry, doubled each time
    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 50
    per_page: int = 5000
    requests: list[str] = field(default_factory=list)  # every URL asked, for the sync log

    @property
    def source(self) -> str:
        return KOLADA_SOURCE

    # Reading -------------------------------------------------------------------------

    def kpi(self, kpi_id: str) -> KpiMeta | None:
        """The KPI's metadata; None when Kolada no longer publishes it."""
        _check_kpi(kpi_id)
        try:
            entries = self._all(f"/kpi/{kpi_id}")
        except KoladaGone:
            return None
        found = [kolada.parse_kpi(e, f"kpi/{kpi_id}.values[{i}]") for i, e in enumerate(entries)]
        return next((k for k in found if k.id == kpi_id), None)

    def areas(self, ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Area id -> (title, type) for the ids Kolada knows."""
        for area in ids:
            _check_area(area)
        names: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(sorted(set(ids)), AREAS_PER_REQUEST):
            for index, entry in enumerate(self._all(f"/municipality/{','.join(chunk)}")):
                where = f"municipality.values[{index}]"
                if not isinstance(entry, dict) or entry.get("id") not in chunk:
                    raise KoladaFormatError(f"{where}: not one of the areas asked for")
                title = entry.get("title")
                kind = entry.get("type") or ""
                if not isinstance(title, str) or not title or len(title) > 200:
                    raise KoladaFormatError(f"{where}.title: not a name")
                if not isinstance(kind, str) or len(kind) > 8:
                    raise KoladaFormatError(f"{where}.type: not a type")
                names[entry["id"]] = (title.strip(), kind)
        return names

    def data(self, kpi_id: str, areas: Sequence[str], years: Sequence[int]) -> list[DataValue]:
        """Every value of the KPI for the areas and years (T, K and M where published)."""
        _check_kpi(kpi_id)
        for area in areas:
            _check_area(area)
        values: list[DataValue] = []
        for area_chunk in _chunks(sorted(set(areas)), AREAS_PER_REQUEST):
            for year_chunk in _chunks(sorted(set(years)), YEARS_PER_REQUEST):
                path = (
                    f"/data/kpi/{kpi_id}/municipality/{','.join(area_chunk)}"
                    f"/year/{','.join(str(y) for y in year_chunk)}"
                )
                try:
                    rows = self._all(path)
                except KoladaGone:
                    continue  # nothing for these years: the KPI may have stopped
                for index, row in enumerate(rows):
                    values += kolada.parse_data_row(
                        row, f"data.values[{index}]", kpi=kpi_id, areas=area_chunk
                    )
        keys = {(v.area, v.year, v.gender) for v in values}
        if len(keys) != len(values):
            raise KoladaFormatError(f"data/{kpi_id}: the same area, year and gender twice")
        return values

    # Transport -----------------------------------------------------------------------

    def _all(self, path: str) -> list:
        """Every item of a paged answer, following next_page on Kolada's own host only."""
        base = urlsplit(self.base_url)
        url = f"{self.base_url.rstrip('/')}{quote(path, safe='/,')}?per_page={self.per_page}"
        items: list = []
        seen: set[str] = set()
        for _page in range(self.max_pages):
            page = kolada.parse_page(self._get_json(url), path)
            items += page.values
            if not page.next_page:
                return items
            seen.add(url)
            following = urlsplit(page.next_page)
            if (following.scheme, following.netloc) != (base.scheme, base.netloc):
                raise KoladaFormatError(f"{path}: next_page leads to another host")
            if page.next_page in seen:
                raise KoladaFormatError(f"{path}: next_page repeats a page")
            url = page.next_page
        raise KoladaError(f"{path}: more than {self.max_pages} pages")

    def _get_json(self, url: str) -> object:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            try:
                body = self._get(url)
            except KoladaGone:
                raise
            except KoladaError:
                if attempt == self.retries:
                    raise
                time.sleep(delay)
                delay *= 2
                continue
            try:
                return json.loads(body)
            except json.JSONDecodeError as error:
                raise KoladaFormatError(f"{_path(url)}: not JSON ({error})") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, url: str) -> str:
        self.requests.append(url)
        request = urllib.request.Request(
            url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise KoladaGone(f"{_path(url)}: not found (404)") from None
            if error.code >= 500 or error.code == 429:
                raise KoladaError(f"{_path(url)}: Kolada answered {error.code}") from None
            raise KoladaFormatError(f"{_path(url)}: Kolada refused ({error.code})") from None
        except TimeoutError:
            raise KoladaError(f"{_path(url)}: no answer within {self.timeout:g} s") from None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            if isinstance(reason, TimeoutError):
                raise KoladaError(f"{_path(url)}: no answer within {self.timeout:g} s") from None
            raise KoladaError(f"{_path(url)}: unreachable ({reason})") from None
        if len(body) > self.max_bytes:
            raise KoladaFormatError(f"{_path(url)}: answer larger than {self.max_bytes} bytes")
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            raise KoladaFormatError(f"{_path(url)}: not UTF-8") from None


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _check_kpi(kpi_id: str) -> None:
    if not kolada.is_kpi_id(kpi_id):
        raise KoladaFormatError(f"{kpi_id!r} is not a Kolada KPI id")


def _check_area(area: str) -> None:
    if not kolada.is_area_id(area):
        raise KoladaFormatError(f"{area!r} is not a Kolada area id")


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]
