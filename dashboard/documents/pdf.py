"""The tertial report as a tagged, accessible PDF (PDF/UA-1, WeasyPrint).

The document is written as HTML (templates/dashboard/documents/report.html) with the
document's language, real headings and table headers; WeasyPrint turns that into a PDF
with a structure tree, /MarkInfo and /Lang, which ReportLab cannot write.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import CSS, HTML

from .content import TertialDocument

STYLESHEET = Path(__file__).with_name("report.css")


def report_html(document: TertialDocument) -> str:
    return render_to_string(
        "dashboard/documents/report.html",
        {"doc": document, "created_iso": timezone.now().isoformat(timespec="seconds")},
    )


def _refuse(url: str, *args, **kwargs):
    """The document has no images or links to load: nothing outside it is ever fetched."""
    raise ValueError(f"not fetched: {url[:100]}")


def report_tagged_pdf(document: TertialDocument) -> bytes:
    html = HTML(string=report_html(document), url_fetcher=_refuse)
    return html.write_pdf(
        stylesheets=[CSS(string=STYLESHEET.read_text(encoding="utf-8"))],
        pdf_variant="pdf/ua-1",
    )
