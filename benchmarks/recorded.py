"""Kolada's answers from a recorded file, for the demo and the tests (no network).

The file holds the items of Kolada's v3 answers as the API writes them:
`{"kpi": [<kpi items>], "municipality": [<area items>], "data": [<data rows>]}`. `answer`
plays the API's documented paths over them (`/kpi/{ids}`, `/municipality/{ids}`,
`/data/kpi/{kpis}/municipality/{ids}/year/{years}`), with its paging: `per_page` items a
page, a `next_page` URL while there are more, `count` the items of the page. A path it does
not know is a 404, as Kolada's.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from .kolada import KoladaClient, KoladaGone

DATA_PATH = re.compile(r"^/data/kpi/([^/]+)/municipality/([^/]+)/year/([^/]+)$")


class RecordedAnswers:
    def __init__(self, recording: dict) -> None:
        self.recording = recording

    @classmethod
    def from_file(cls, path: Path) -> RecordedAnswers:
        return cls(json.loads(Path(path).read_text(encoding="utf-8")))

    def answer(self, base_url: str, path: str, query: str) -> tuple[int, dict | None]:
        """(HTTP status, JSON body) for a request path below the API's base and its query."""
        params = parse_qs(query)
        per_page = int((params.get("per_page") or ["5000"])[0])
        page = int((params.get("page") or ["1"])[0])
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] in ("kpi", "municipality"):
            ids = set(parts[1].split(","))
            items = [e for e in self.recording.get(parts[0], []) if e.get("id") in ids]
        elif match := DATA_PATH.match(path):
            kpis, areas, years = (set(g.split(",")) for g in match.groups())
            items = [
                row
                for row in self.recording.get("data", [])
                if row["kpi"] in kpis
                and row["municipality"] in areas
                and str(row["period"]) in years
            ]
        else:
            return 404, None
        start = (page - 1) * per_page
        values = items[start : start + per_page]
        more = start + per_page < len(items)

        def link(number: int) -> str:
            return f"{base_url}{path}?{urlencode({'per_page': per_page, 'page': number})}"

        return 200, {
            "count": len(values),
            "values": values,
            "next_page": link(page + 1) if more else None,
            "previous_page": link(page - 1) if page > 1 else None,
        }


class RecordedKolada(KoladaClient):
    """The client, reading a recording instead of the network: the same checks and sync."""

    def __init__(self, path: Path, *, source: str) -> None:
        super().__init__(base_url="https://api.kolada.se/v3", retries=0)
        self._answers = RecordedAnswers.from_file(path)
        self._source = source

    @property
    def source(self) -> str:
        return self._source

    def _get(self, url: str) -> str:
        self.requests.append(url)
        path, _, query = url.removeprefix(self.base_url).partition("?")
        status, body = self._answers.answer(self.base_url, path, query)
        if status == 404:
            raise KoladaGone(f"{path}: not found (404)")
        return json.dumps(body)
