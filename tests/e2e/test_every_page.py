"""Every page as every demo user (issue #10): no 5xx, no console or JS error, no refusal by
the Content-Security-Policy, wherever a link leads.

Each user signs in and the test follows every same-origin link, breadth first, from the home
page, the API docs and one page of each kind, in one Chromium. Files (PDF, XLSX, CSV, the
schema, an import's file, the API's answers) are fetched by request only, for their status;
the browsable API's pages have their own crawl (test_browsable_api.py). Sign-out is never
followed, and nothing is posted: links are GET. The crawl is bounded by MAX_PAGES per user and
PER_KIND pages of one address pattern (so that 45 indicator pages do not crowd out the rest).

Beside it, on the division page: axe-core at phone width (where tables become cards), the
focus ring's contrast with what surrounds it, and the cards themselves.
"""

from __future__ import annotations

import re
from collections import Counter, deque
from urllib.parse import urldefrag, urljoin

import pytest

from demo.nara import DEMO_USERS
from divisions.models import Role

from .test_dashboard import axe_violations, charts_drawn, log_in

PERIOD = "2022-T2"
MAX_PAGES = 80  # per user
MIN_PAGES = 60  # the floor: fewer means the crawl lost its way
PER_KIND = 20  # pages of one address pattern per user
# Files of one name per user (a tertial report's PDF takes seconds to lay out: every unit's
# would double the crawl; three units per user and kind of file still reach every role's).
PER_FILE = 3
FILES = re.compile(
    r"(\.(pdf|docx|xlsx|csv|json|yaml)$)|/fil/$|^/api/(schema|v1)/|^/(metrics|healthz)"
)
NEVER = re.compile(r"logout|/static/|/media/|/sso/")

# Recorded into Python (a binding survives navigation, a window variable would not).
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolation(location.pathname + ": " + event.violatedDirective + " "
                      + event.blockedURI);
});
"""

# One page of each kind, for the users who can read it; the crawl goes on from there.
SEEDS = [
    "/",
    "/api/docs/",
    "/api/redoc/",
    f"/oversikt/{PERIOD}/",
    f"/styrkort/div_nara/{PERIOD}/",
    f"/styrkort/primarvarden/{PERIOD}/",
    f"/styrkort/avp_pajala/{PERIOD}/",
    f"/styrkort/region_norrbotten/{PERIOD}/",
    f"/styrkort/div_lanssjukvard/{PERIOD}/",
    f"/styrkort/div_nara/{PERIOD}/utskrift/",
    f"/styrmatt/fallskador_aldre/div_nara/{PERIOD}/",
    f"/styrmatt/fallskador_aldre/avp_pajala/{PERIOD}/",
    f"/styrmatt/sjukfranvaro/region_norrbotten/{PERIOD}/",
    "/over-tid/region_norrbotten/tertial/",
    "/over-tid/div_nara/ar/",
    "/over-tid/div_nara/manad/",
    f"/historik/rapport/div_nara/{PERIOD}/",
    "/importer/",
    "/rapportera/",
    "/konto/",
]
# Pages only some roles may open (the others get a 403, which the browser logs as an error).
WRITERS_SEEDS = [f"/rapportera/div_nara/{PERIOD}/"]
ADMIN_SEEDS = ["/admin/"]

WRITERS = {Role.ADMINISTRATOR, Role.DIVISION_MANAGER}

pytestmark = pytest.mark.django_db(transaction=True)


def kind_of(path: str) -> str:
    """The address pattern: the first segment, how many there are, whether it has a query
    (the admin's filters combine into hundreds of queries of one list)."""
    path, query_mark, _ = path.partition("?")
    parts = [p for p in path.split("/") if p]
    return f"{parts[0] if parts else ''}/{len(parts)}{query_mark}"


def same_origin_links(page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href]", "links => links.filter(a => !a.hasAttribute('download')).map(a => a.href)"
    )
    found = []
    for href in hrefs:
        url, _ = urldefrag(href)
        if url.startswith(origin + "/"):
            found.append(url[len(origin) :])
    return found


class Crawl:
    max_pages = MAX_PAGES
    per_kind = PER_KIND

    def __init__(self, browser, origin: str, username: str):
        self.origin = origin
        self.context = browser.new_context(
            base_url=origin, viewport={"width": 1280, "height": 900}, locale="sv-SE"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.files: list[str] = []
        self.current = ""
        self.page.expose_function("cspViolation", lambda text: self.problems.append(text))
        self.page.add_init_script(RECORD_VIOLATIONS)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"{self.current}: {error}"))
        self.page.on("response", self._response)
        self.username = username

    def _console(self, message) -> None:
        if message.type == "error":
            self.problems.append(f"{self.current}: console: {message.text}")

    def _response(self, response) -> None:
        if response.status >= 500:
            self.problems.append(f"{self.current}: {response.status} {response.url}")

    def is_file(self, path: str) -> bool:
        """Fetched by request for its status, not opened in the browser."""
        return bool(FILES.search(path.partition("?")[0]))

    def log_in(self) -> None:
        log_in(self.page, self.username)
        assert "/login/" not in self.page.url, f"{self.username} could not sign in"

    def run(self, seeds: list[str]) -> None:
        """Breadth first, and the next page always of the kind seen least so far: within
        MAX_PAGES the admin's lists get their turn beside 45 indicator pages."""
        queues: dict[str, deque[str]] = {}
        seen: set[str] = set()
        per_kind: Counter[str] = Counter()
        per_file: Counter[str] = Counter()

        def add(path: str) -> None:
            if path in seen or NEVER.search(path):
                return
            seen.add(path)
            if self.is_file(path):
                name = path.partition("?")[0].rstrip("/").rpartition("/")[2]
                if per_file[name] < PER_FILE:
                    per_file[name] += 1
                    self._fetch(path)
            elif per_kind[kind_of(path)] < self.per_kind:
                queues.setdefault(kind_of(path), deque()).append(path)

        for path in seeds:
            add(path)
        while len(self.visited) < self.max_pages:
            waiting = [k for k, queue in queues.items() if queue and per_kind[k] < self.per_kind]
            if not waiting:
                break
            kind = min(waiting, key=lambda k: (per_kind[k], k))
            per_kind[kind] += 1
            for link in self._visit(queues[kind].popleft()):
                add(link)

    def _visit(self, path: str) -> list[str]:
        self.current = path
        response = self.page.goto(path, wait_until="load")
        self.visited.append(path)
        if response is None:
            return []
        if response.status >= 500:
            return []  # recorded by _response
        if "text/html" not in (response.headers.get("content-type") or ""):
            return []
        if self.page.locator("[data-chart]").count():
            charts_drawn(self.page)  # a chart that fails to draw shows here, not later
        return same_origin_links(self.page, self.origin)

    def _fetch(self, path: str) -> None:
        self.files.append(path)
        status = self.context.request.get(urljoin(self.origin, path), max_redirects=0).status
        if status >= 500:
            self.problems.append(f"{path}: {status} (file)")


def test_every_page_as_every_demo_user_without_a_server_or_browser_error(
    browser, live_server, demo_site
):
    report = {}
    for user in DEMO_USERS:
        crawl = Crawl(browser, live_server.url, user.username)
        try:
            crawl.log_in()
            seeds = SEEDS + (WRITERS_SEEDS if user.role in WRITERS else [])
            crawl.run(seeds + (ADMIN_SEEDS if user.role == Role.ADMINISTRATOR else []))
        finally:
            crawl.context.close()
        kinds = Counter(kind_of(p) for p in crawl.visited)
        report[user.username] = (len(crawl.visited), len(crawl.files), len(kinds))
        assert crawl.problems == [], f"{user.username}: {crawl.problems}"
        assert len(crawl.visited) >= MIN_PAGES, (user.username, crawl.visited)
    # Every user reached the dashboard's kinds of page, the API docs and a file or more.
    assert all(files >= 2 and kinds >= 12 for _pages, files, kinds in report.values()), report


# ------------------------------------------------------------------ the division page


@pytest.fixture
def page_of(browser, live_server, demo_site):
    """A signed-in page at a width, with the console errors it logs."""
    contexts = []

    def open_page(username: str, width: int):
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 900}, locale="sv-SE"
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.console_errors = []
        page.on(
            "console",
            lambda message: message.type == "error" and page.console_errors.append(message.text),
        )
        log_in(page, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


# Relative luminance and contrast ratio as WCAG 2 defines them; the colour behind an
# element is the first opaque background among its ancestors (the outline is drawn outside
# the element, so its own background does not count).
FOCUS_CONTRAST = """
() => {
  const rgb = text => (text.match(/[\\d.]+/g) || []).map(Number);
  const channel = c => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) =>
    0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const el = document.activeElement;
  const style = getComputedStyle(el);
  let behind = el.parentElement, background = [255, 255, 255];
  while (behind) {
    const colour = getComputedStyle(behind).backgroundColor;
    const parts = rgb(colour);
    if (parts.length === 3 || (parts.length === 4 && parts[3] === 1)) {
      background = parts.slice(0, 3);
      break;
    }
    behind = behind.parentElement;
  }
  return {
    element: el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
             + " " + (el.textContent || "").trim().slice(0, 30),
    outline: style.outlineStyle + " " + style.outlineWidth + " " + style.outlineColor,
    width: parseFloat(style.outlineWidth),
    contrast: style.outlineStyle === "none"
      ? 0 : ratio(rgb(style.outlineColor).slice(0, 3), background),
  };
}
"""


def test_the_focus_ring_contrasts_at_least_3_to_1_with_what_surrounds_it(page_of):
    page = page_of("ledamot", 1280)
    page.goto(f"/styrkort/div_nara/{PERIOD}/")
    charts_drawn(page)
    rings = []
    # By keyboard from the top: the skip link, the header's links (on dark blue), the period
    # selector, the toolbar's links, the tables' scroll regions and the indicator links.
    for _ in range(24):
        page.keyboard.press("Tab")
        rings.append(page.evaluate(FOCUS_CONTRAST))
    kinds = {ring["element"].split(" ")[0].split(".")[0] for ring in rings}
    assert {"a", "select", "button", "div"} <= kinds, kinds  # links, form, scroll regions
    weak = [ring for ring in rings if ring["contrast"] < 3 or ring["width"] < 2]
    assert weak == [], weak


def test_on_a_phone_each_indicator_is_a_card_that_fits_and_the_tablet_keeps_the_table(page_of):
    phone = page_of("chef.nara", 390)
    phone.goto(f"/styrkort/div_nara/{PERIOD}/")
    charts_drawn(phone)
    fits = phone.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const cells = [...document.querySelectorAll(
              'table.scorecard.stack td, table.scorecard.stack th')]
            .filter(el => el.offsetParent !== null);
          return {
            page: document.documentElement.scrollWidth <= width,
            cells: cells.length,
            outside: cells.filter(el => el.getBoundingClientRect().right > width + 1).length,
            scrolled: [...document.querySelectorAll('.table-scroll')]
              .filter(el => el.querySelector('table.stack')
                            && el.scrollWidth > el.clientWidth + 1).length,
            labelled: [...document.querySelectorAll('table.scorecard.stack td[data-label]')]
              .filter(el => getComputedStyle(el, '::before').content
                              .includes(el.dataset.label)).length,
          };
        }"""
    )
    assert fits["page"] and fits["cells"] > 100, fits
    assert fits["outside"] == 0 and fits["scrolled"] == 0, fits
    assert fits["labelled"] > 100, fits  # every value under its column's name
    # The value and the status of a row are on screen beside each other, as the card says.
    card = phone.locator("#perspective-medborgare tbody.indicator").first
    value = card.locator("td[data-label='Periodens utfall']").first.bounding_box()
    status = card.locator("td[data-label='Måluppfyllelse']").first.bounding_box()
    assert value["x"] + value["width"] <= 390 and status["x"] + status["width"] <= 390
    assert phone.console_errors == []

    tablet = page_of("chef.nara", 820)
    tablet.goto(f"/styrkort/div_nara/{PERIOD}/")
    assert tablet.locator("table.scorecard thead").first.is_visible()
    assert (
        tablet.evaluate("() => getComputedStyle(document.querySelector('table.scorecard')).display")
        == "table"
    )


def test_no_wcag_violations_on_the_phone_layout(page_of):
    page = page_of("ledamot", 390)
    found = {}
    for path in (
        f"/styrkort/div_nara/{PERIOD}/",
        f"/styrkort/div_nara/{PERIOD}/utskrift/",
        f"/oversikt/{PERIOD}/",
    ):
        page.goto(path)
        if page.locator("[data-chart]").count():
            charts_drawn(page)
        violations = axe_violations(page)
        if violations:
            found[path] = violations
    assert found == {}
