"""The browsable API (/api/v1/ in a browser): no 5xx, no console error, no refusal by the
Content-Security-Policy, on every page its links lead to.

As the administrator, who gets every write form DRF draws, and as the board member, who gets
none: the other roles see the same templates with fewer forms (two more crawls cost 25 s).

No dashboard page links here, so the crawl of every page fetches /api/v1/ only for its status;
this one opens the pages. Exports (CSV, XLSX, JSON) are fetched by request, not opened.
"""

from __future__ import annotations

import re

import pytest

from api.urls import router
from demo.nara import DEMO_USERS
from divisions.models import Role

from .test_every_page import Crawl

API_FILES = re.compile(r"[?&]format=(?!api\b)|^/api/schema/|\.(csv|xlsx|json|yaml)$")

pytestmark = pytest.mark.django_db(transaction=True)


# The API has no root page: the crawl starts at every resource's list.
LISTS = [f"/api/v1/{prefix}/" for prefix, _viewset, _basename in router.registry]


class ApiCrawl(Crawl):
    max_pages = len(LISTS) + 8  # every list, then details, next pages and filtered lists
    per_kind = len(LISTS)

    def is_file(self, path: str) -> bool:
        return bool(API_FILES.search(path))

    def _visit(self, path: str) -> list[str]:
        # The API's own pages (the dashboard's have their crawl), less ?format=api: the
        # same page again.
        return [
            link
            for link in super()._visit(path)
            if link.startswith("/api/") and "format=api" not in link
        ]


def test_the_browsable_api_with_and_without_write_forms_without_a_server_or_browser_error(
    browser, live_server, demo_site
):
    users = [u for u in DEMO_USERS if u.role in {Role.ADMINISTRATOR, Role.BOARD_MEMBER}]
    assert len(users) == 2
    for user in users:
        crawl = ApiCrawl(browser, live_server.url, user.username)
        try:
            crawl.log_in()
            crawl.run(LISTS)
        finally:
            crawl.context.close()
        assert crawl.problems == [], f"{user.username}: {crawl.problems}"
        api_pages = [path for path in crawl.visited if path.startswith("/api/v1/")]
        # Every list, and the details, next pages and filters its links lead to.
        assert len(api_pages) > len(LISTS) + 5, (user.username, crawl.visited)
        assert crawl.files, (user.username, "no export was fetched")
