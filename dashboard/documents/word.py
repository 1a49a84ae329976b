"""The tertial report as an editable Word file (python-docx), the form regions circulate.

Accessible as Word checks it: real headings (Heading 1-3, so the navigation pane lists the
perspectives), real tables whose header row repeats on every page, status as symbol and
word, the document language in the styles and the core properties.
"""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from dashboard.presentation import NATIONAL_HEADER

from .content import Note, TertialDocument

VALUE_COLUMN = 4  # "Periodens utfall" of an indicator table

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def report_docx(document: TertialDocument) -> bytes:
    doc = Document()
    _set_language(doc, document.language)
    _landscape(doc)
    props = doc.core_properties
    props.title = document.title
    props.author = document.author
    props.subject = document.org_unit
    props.language = document.language
    props.created = timezone.now().astimezone(datetime.UTC).replace(tzinfo=None)
    props.keywords = f"{document.org_unit_code} {document.period}"

    _cover(doc, document)
    doc.add_heading(_("Måluppfyllelse i perspektiv"), level=1)
    _table(
        doc,
        [
            _("Perspektiv"),
            _("Måluppfyllelse"),
            _("Beräknad (sammanvägning)"),
            _("Bedömd (samlad bedömning)"),
            _("Motivering"),
            _("Styrmått"),
        ],
        [
            [
                s.perspective,
                str(s.status),
                str(s.computed),
                str(s.judged) if s.judged else _("ingen samlad bedömning"),
                s.justification if s.differs else "",
                s.counts,
            ]
            for s in document.summary
        ],
    )
    legend = doc.add_paragraph()
    legend.add_run(_("Teckenförklaring") + ": ").bold = True
    legend.add_run("; ".join(f"{status}: {text}" for status, text in document.legend))

    for chapter in document.chapters:
        doc.add_heading(_("Perspektiv %(name)s") % {"name": chapter.name}, level=1)
        summary = chapter.summary
        _labelled(doc, _("Måluppfyllelse"), str(summary.status))
        _labelled(doc, _("Beräknad sammanvägning av styrmåtten"), str(summary.computed))
        if summary.judged is not None:
            _labelled(doc, _("Samlad bedömning"), str(summary.judged))
        if summary.differs:
            _labelled(
                doc,
                _("Motivering till avvikelsen"),
                summary.justification or _("Ingen motivering är skriven."),
            )
        if chapter.assessment:
            doc.add_heading(_("Samlad bedömning"), level=2)
            _paragraphs(doc, chapter.assessment)
        for table in chapter.tables:
            doc.add_heading(_("Strategiskt mål: %(name)s") % {"name": table.goal}, level=2)
            national = document.national_column
            rows = [
                [
                    row.success_factor,
                    row.indicator if row.first_of_indicator else "",
                    row.target,
                    row.follow_up,
                    row.value,
                    *([row.national] if national else []),
                    str(row.status),
                    str(row.trend),
                ]
                for row in table.rows
            ]
            word_table = _table(
                doc,
                [
                    _("Framgångsfaktor"),
                    _("Styrmått"),
                    _("Mål"),
                    _("Uppföljningsperiod"),
                    _("Periodens utfall"),
                    *([str(NATIONAL_HEADER)] if national else []),
                    _("Måluppfyllelse"),
                    _("Utveckling"),
                ],
                rows,
            )
            _span_indicators(word_table, table.rows)
            _note_markers(word_table, table.rows)
            _notes(doc, table.notes)
        if chapter.analyses:
            doc.add_heading(_("Analys"), level=2)
            for analysis in chapter.analyses:
                doc.add_heading(analysis.indicator, level=3)
                if analysis.override:
                    _paragraphs(doc, analysis.override)
                if analysis.text:
                    _paragraphs(doc, analysis.text)
        if chapter.actions:
            doc.add_heading(_("Uppföljning av strategiska åtgärder"), level=2)
            _table(
                doc,
                [_("Nr"), _("Mål"), _("Åtgärd"), _("Status"), _("Kommentar"), _("Ansvarig")],
                [
                    [a.number, a.goal, a.description, a.status, a.comment, a.owner]
                    for a in chapter.actions
                ],
            )
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def _cover(doc, document: TertialDocument) -> None:
    doc.add_paragraph(document.title, style="Title")
    doc.add_paragraph(document.region, style="Subtitle")
    doc.add_paragraph(
        _("%(unit)s, period %(period)s") % {"unit": document.org_unit, "period": document.period}
    )
    doc.add_paragraph(_("Skapad %(when)s ur Styrkort.") % {"when": document.created})
    if document.final:
        doc.add_paragraph().add_run(document.final).bold = True
    if document.corrected:
        doc.add_paragraph().add_run(_("Rättad efter fastställande") + ". ").bold = True
        doc.add_paragraph(document.corrected)
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _labelled(doc, label: str, text: str) -> None:
    paragraph = doc.add_paragraph()
    paragraph.add_run(f"{label}: ").bold = True
    paragraph.add_run(text)


def _paragraphs(doc, text: str) -> None:
    for part in text.replace("\r\n", "\n").split("\n\n"):
        paragraph = doc.add_paragraph()
        lines = part.split("\n")
        for index, line in enumerate(lines):
            run = paragraph.add_run(line)
            if index < len(lines) - 1:
                run.add_break()


def _table(doc, header: list[str], rows: list[list[str]]):
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    head = table.rows[0]
    _repeat_header(head)
    for cell, text in zip(head.cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.paragraphs[0].add_run(text)
    return table


def _span_indicators(table, rows) -> None:
    """An indicator's breakdowns share its success factor, name and follow-up cells."""
    start = None
    for index, row in enumerate([*rows, None]):
        if row is None or row.first_of_indicator:
            if start is not None and index - start > 1:
                for column in (0, 1, 3):
                    top = table.cell(start + 1, column)
                    top.merge(table.cell(index, column))
                    # merge() joins the (empty) paragraphs of the cells it spans: keep one.
                    for extra in top.paragraphs[1:]:
                        extra._element.getparent().remove(extra._element)
            start = index


def _note_markers(table, rows) -> None:
    """A commented value cell ends in its footnote number, superscript as in print."""
    for index, row in enumerate(rows, start=1):
        if row.note_number:
            marker = table.cell(index, VALUE_COLUMN).paragraphs[0].add_run(str(row.note_number))
            marker.font.superscript = True


def _notes(doc, notes: list[Note]) -> None:
    """The table's cell comments as numbered notes below it (python-docx writes no Word
    footnotes; the numbers are the report's, so they run on across the tables)."""
    if not notes:
        return
    doc.add_paragraph().add_run(_("Kommentarer")).bold = True
    for note in notes:
        paragraph = doc.add_paragraph()
        paragraph.add_run(f"{note.number}. ").bold = True
        paragraph.add_run(f"{note.cell}: ").italic = True
        lines = note.text.replace("\r\n", "\n").split("\n")
        for index, line in enumerate(lines):
            run = paragraph.add_run(line)
            if index < len(lines) - 1:
                run.add_break()
        if note.author:
            paragraph.add_run(f" – {note.author}")


def _repeat_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _set_language(doc, language: str) -> None:
    """The language of every run by default (spelling, screen readers): w:lang in the
    document defaults of the styles."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    run_default = defaults.find(qn("w:rPrDefault"))
    if run_default is None:
        run_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, run_default)
    properties = run_default.find(qn("w:rPr"))
    if properties is None:
        properties = OxmlElement("w:rPr")
        run_default.append(properties)
    lang = properties.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        properties.append(lang)
    lang.set(qn("w:val"), language)
    lang.set(qn("w:eastAsia"), language)
    lang.set(qn("w:bidi"), language)
    doc.styles["Normal"].font.size = Pt(10)


def _landscape(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(15))
