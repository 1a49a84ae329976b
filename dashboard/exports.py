"""The division report as a file: PDF (ReportLab) and the scorecard table as XLSX (openpyxl).

Both render the selector output of the division page (dashboard.selectors.final.report_page:
the report as closed while its close is in force, else live with its corrections),
so the files say exactly what the page says, in the active language.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from dashboard.presentation import (
    NATIONAL_HEADER,
    STATES,
    STATUS_TINTS,
    breakdown_label,
    correction_field,
    correction_kind,
    correction_value,
    coverage_text,
    follow_up,
    has_national,
    national_text,
    quantity,
    status_explanation,
    status_label,
    target_text,
    trend_label,
    xlsx_number_format,
)
from dashboard.selectors.division import DivisionPage
from domain.spreadsheet import xlsx_value, xml_safe

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_TINTS = {status: colors.HexColor(tint) for status, tint in STATUS_TINTS.items()}
HEADER_FILL = "F0F4F7"


def filename(page: DivisionPage, extension: str) -> str:
    return f"styrkort_{page.org_unit.code}_{page.period}.{extension}"


def value_text(line) -> str:
    prefix = "" if line.breakdown == "total" else f"{breakdown_label(line.breakdown)}: "
    if line.value is None:
        return f"{prefix}–"
    coverage = coverage_text(line.aggregate, own_value=not line.aggregated)
    shown = quantity(line.value, line.indicator.unit, line.breakdown)
    return f"{prefix}{shown}" + (f" ({coverage})" if coverage else "")


def target_cell(line) -> str:
    return target_text(line.target, line.indicator.unit, line.breakdown)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def final_note(page: DivisionPage) -> str:
    """The closed report's stamp, written on the file ("" for a report that is open)."""
    final = page.final
    if final is None:
        return ""
    note = _("Slutlig rapport. Fastställd för %(unit)s %(when)s.") % {
        "unit": final.closed_on,
        "when": _when(final.closed_at),
    }
    if final.reason:
        note += f" {_('Motivering')}: {final.reason}"
    return note


def reopened_note(page: DivisionPage) -> str:
    final = page.corrections.final
    return _(
        "Rapporten fastställdes %(when)s för %(unit)s och öppnades igen %(reopened)s av "
        "%(who)s. Motivering: %(reason)s"
    ) % {
        "when": _when(final.closed_at),
        "unit": final.closed_on,
        "reopened": _when(final.reopened_at),
        "who": final.reopened_by or _("kommandoraden"),
        "reason": final.reopen_reason,
    }


def correction_rows(page: DivisionPage) -> list[list[str]]:
    """The corrected report's changes, one row per changed field: code, indicator,
    breakdown, change, field, frozen value, current value."""
    if page.corrections is None:
        return []
    return [
        [
            change.indicator,
            change.name,
            breakdown_label(change.breakdown),
            correction_kind(change.kind),
            correction_field(field.field),
            *correction_value(field),
        ]
        for change in page.corrections.changes
        for field in change.fields
    ]


# --------------------------------------------------------------------------- PDF


def report_pdf(page: DivisionPage) -> bytes:
    """The "Måluppfyllelse i perspektiv" appendix: one table per perspective, A4 landscape."""
    buffer = io.BytesIO()
    title = f"{_('Måluppfyllelse i perspektiv')} – {page.org_unit.name}, {page.period}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=14 * mm,
        rightMargin=14 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=title,
        author="Styrkort",
        subject=page.org_unit.name,
        lang=get_language() or "sv",
    )
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=8.5, leading=10.5)
    head = ParagraphStyle("head", parent=body, fontName="Helvetica-Bold")
    right = ParagraphStyle("right", parent=body, alignment=TA_RIGHT)
    story = [
        Paragraph(escape(title), styles["Title"]),
        Paragraph(
            escape(
                _("Utskrivet %(when)s. Utveckling jämförs med samma period året innan.")
                % {"when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}
            ),
            body,
        ),
    ]
    legend = "; ".join(f"{status_label(status)}: {status_explanation(status)}" for status in STATES)
    story.append(Paragraph(f"<b>{escape(_('Teckenförklaring'))}:</b> {escape(legend)}", body))
    if page.final is not None:
        story.append(Paragraph(f"<b>{escape(final_note(page))}</b>", body))
    if page.corrections is not None:
        story.append(Spacer(1, 3 * mm))
        story.append(Paragraph(escape(_("Rättad efter fastställande")), styles["Heading2"]))
        story.append(Paragraph(escape(reopened_note(page)), body))
        changes = correction_rows(page)
        if changes:
            rows = [
                [
                    Paragraph(escape(c), head)
                    for c in (
                        _("Styrmått"),
                        _("Uppdelning"),
                        _("Ändring"),
                        _("Fastställt"),
                        _("Nu"),
                    )
                ]
            ]
            for _code, name, breakdown, kind, field, frozen, now in changes:
                rows.append(
                    [
                        Paragraph(escape(f"{name} ({kind})"), body),
                        Paragraph(escape(breakdown), body),
                        Paragraph(escape(field), body),
                        Paragraph(escape(frozen), body),
                        Paragraph(escape(now), body),
                    ]
                )
            table = Table(rows, colWidths=[90 * mm, 30 * mm, 40 * mm, 53 * mm, 53 * mm])
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#" + HEADER_FILL)),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(table)
        else:
            story.append(
                Paragraph(escape(_("Inga rader skiljer sig från den fastställda rapporten.")), body)
            )
    corrected = page.corrections.by_key if page.corrections is not None else {}
    columns = [
        _("Framgångsfaktor"),
        _("Styrmått"),
        _("Mål"),
        _("Uppföljningsperiod"),
        _("Periodens utfall"),
        _("Måluppfyllelse"),
        _("Utveckling"),
    ]
    widths = [40 * mm, 68 * mm, 30 * mm, 31 * mm, 30 * mm, 34 * mm, 33 * mm]
    # The country's value (Kolada) beside the period's, where some line has one (as the page).
    national = has_national(page.lines)
    if national:
        columns.insert(5, str(NATIONAL_HEADER))
        widths = [36 * mm, 56 * mm, 24 * mm, 30 * mm, 28 * mm, 28 * mm, 32 * mm, 30 * mm]
    status_column = columns.index(_("Måluppfyllelse"))
    for section in page.sections:
        story.append(Spacer(1, 5 * mm))
        heading = Paragraph(
            escape(_("Perspektiv %(name)s") % {"name": section.perspective.name}),
            styles["Heading2"],
        )
        basis = "" if section.cell.from_assessment else f" ({_('sammanvägning av styrmåtten')})"
        summary = [
            Paragraph(
                f"<b>{escape(_('Samlad bedömning'))}:</b> "
                f"{escape(status_label(section.cell.status))}{escape(basis)}",
                body,
            )
        ]
        if section.cell.from_assessment:
            computed = status_label(section.cell.computed) or _("ingen (inga styrmått)")
            summary.append(
                Paragraph(
                    f"<b>{escape(_('Beräknad sammanvägning av styrmåtten'))}:</b> "
                    f"{escape(computed)}",
                    body,
                )
            )
        if section.cell.differs:
            why = section.cell.justification or _("Ingen motivering är skriven.")
            summary.append(
                Paragraph(f"<b>{escape(_('Motivering till avvikelsen'))}:</b> {escape(why)}", body)
            )
        if section.cell.assessment and section.cell.assessment.text:
            summary.append(Paragraph(escape(section.cell.assessment.text), body))
        story.append(KeepTogether([heading, *summary]))
        if section.report is None:
            continue
        rows = [[Paragraph(escape(c), head) for c in columns]]
        style = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9a9a9a")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#" + HEADER_FILL)),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ]
        for goal in section.report.goals:
            for factor in goal.factors:
                for group in factor.indicators:
                    first = len(rows)
                    for line in group.lines:
                        rows.append(
                            [
                                Paragraph(escape(factor.name), body)
                                if line.first_of_indicator
                                else "",
                                Paragraph(escape(group.indicator.name), body)
                                if line.first_of_indicator
                                else "",
                                Paragraph(escape(target_cell(line)), body),
                                Paragraph(escape(follow_up(group.indicator.follow_up)), body)
                                if line.first_of_indicator
                                else "",
                                Paragraph(
                                    escape(
                                        value_text(line)
                                        + (
                                            f" ({_('rättad')})"
                                            if f"{line.indicator.code}/{line.breakdown}"
                                            in corrected
                                            else ""
                                        )
                                    )
                                    + _note_marker(line),
                                    right,
                                ),
                                *(
                                    [Paragraph(escape(national_text(line)), right)]
                                    if national
                                    else []
                                ),
                                Paragraph(escape(status_label(line.status)), body)
                                if line.status
                                else "",
                                Paragraph(escape(trend_label(line.trend)), body),
                            ]
                        )
                        if line.status in PDF_TINTS:
                            row = len(rows) - 1
                            style.append(
                                (
                                    "BACKGROUND",
                                    (status_column, row),
                                    (status_column, row),
                                    PDF_TINTS[line.status],
                                )
                            )
                    last = len(rows) - 1
                    for col in (0, 1, 3):
                        style.append(("SPAN", (col, first), (col, last)))
                    analysis = (
                        group.lines[0].assessment.analysis if group.lines[0].assessment else ""
                    )
                    if analysis:
                        rows.append(
                            [Paragraph(f"<b>{escape(_('Analys'))}:</b> {escape(analysis)}", body)]
                            + [""] * (len(columns) - 1)
                        )
                        row = len(rows) - 1
                        style.append(("SPAN", (0, row), (-1, row)))
                        style.append(
                            ("BACKGROUND", (0, row), (-1, row), colors.HexColor("#fafafa"))
                        )
        table = Table(rows, colWidths=widths, repeatRows=1)
        table.setStyle(TableStyle(style))
        story.append(table)
        story.extend(_notes(section.report.notes, body))
        if section.actions:
            story.append(Spacer(1, 3 * mm))
            story.append(
                Paragraph(escape(_("Uppföljning av strategiska åtgärder")), styles["Heading3"])
            )
            action_rows = [
                [
                    Paragraph(escape(c), head)
                    for c in (_("Mål"), _("Åtgärd"), _("Status"), _("Kommentar"))
                ]
            ]
            for action in section.actions:
                goal = f"{action.number}. {action.goal}" if action.number else action.goal
                action_rows.append(
                    [
                        Paragraph(escape(goal), body),
                        Paragraph(escape(action.description), body),
                        Paragraph(escape(str(action.get_status_display())), body),
                        Paragraph(escape(action.comment), body),
                    ]
                )
            actions = Table(
                action_rows, colWidths=[70 * mm, 92 * mm, 25 * mm, 80 * mm], repeatRows=1
            )
            actions.setStyle(TableStyle(style[:5]))
            story.append(actions)
    doc.build(story)
    return buffer.getvalue()


def _note_marker(line) -> str:
    """A commented value's footnote number, superscript (ReportLab markup)."""
    return f"<super>{line.note_number}</super>" if getattr(line, "note", "") else ""


def _notes(lines, style) -> list:
    """The perspective's published cell comments, numbered, below its table (as in print)."""
    if not lines:
        return []
    story = [Spacer(1, 2 * mm), Paragraph(f"<b>{escape(_('Kommentarer'))}</b>", style)]
    for line in lines:
        cell = line.indicator.name
        if line.breakdown != "total":
            cell += f" ({breakdown_label(line.breakdown)})"
        author = f" – {escape(line.note_by)}" if line.note_by else ""
        text = escape(xml_safe(line.note)).replace("\n", "<br/>")
        story.append(Paragraph(f"{line.note_number}. <i>{escape(cell)}:</i> {text}{author}", style))
    return story


# --------------------------------------------------------------------------- XLSX


def scorecard_xlsx(page: DivisionPage) -> bytes:
    """The scorecard table, one row per indicator and breakdown, plus perspectives and actions."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Styrkort")[:31]
    header = [
        _("Perspektiv"),
        _("Strategiskt mål"),
        _("Framgångsfaktor"),
        _("Kod"),
        _("Styrmått"),
        _("Uppdelning"),
        _("Mål"),
        _("Uppföljningsperiod"),
        _("Periodens utfall"),
        _("Enhet"),
        _("Omfattar"),
        _("Måluppfyllelse"),
        _("Utveckling"),
        _("Analys"),
        # Added at the end, so that the columns before keep their places.
        str(NATIONAL_HEADER),
        _("Riket, år"),
    ]
    sheet.append(header)
    for line in page.lines:
        _append(
            sheet,
            [
                line.perspective,
                line.strategic_goal,
                line.success_factor,
                line.indicator.code,
                line.indicator.name,
                breakdown_label(line.breakdown),
                target_cell(line),
                follow_up(line.indicator.follow_up),
                _xlsx_number(line.value),
                str(line.indicator.get_unit_display()),
                coverage_text(line.aggregate, own_value=not line.aggregated),
                status_label(line.status),
                trend_label(line.trend),
                line.assessment.analysis if line.assessment and line.first_of_indicator else "",
                _xlsx_number(getattr(line, "national_value", None)),
                getattr(line, "national_year", None),
            ],
        )
        # A number stays a number (sums, charts); its format shows it as the page does.
        value_cell = sheet.cell(row=sheet.max_row, column=VALUE_COLUMN)
        value_cell.number_format = xlsx_number_format(
            line.value, line.indicator.unit, line.breakdown
        )
        sheet.cell(row=sheet.max_row, column=NATIONAL_COLUMN).number_format = xlsx_number_format(
            getattr(line, "national_value", None), line.indicator.unit, line.breakdown
        )
        if getattr(line, "note", ""):  # a line frozen before comments existed has none
            value_cell.comment = cell_comment(line.note, line.note_by)
    _finish_sheet(sheet, widths=[14, 28, 34, 22, 50, 12, 22, 16, 14, 10, 30, 18, 18, 60, 14, 8])

    summary = book.create_sheet(_("Perspektiv")[:31])
    summary.append(
        [
            _("Perspektiv"),
            _("Måluppfyllelse"),
            _("Grund"),
            *(status_label(status) for status in STATES),
            _("Samlad bedömning"),
            _("Beräknad"),
            _("Motivering"),
        ]
    )
    for section in page.sections:
        cell = section.cell
        _append(
            summary,
            [
                section.perspective.name,
                status_label(cell.status),
                _("samlad bedömning") if cell.from_assessment else _("sammanvägning"),
                *(getattr(cell.counts, status) for status in STATES),
                cell.assessment.text if cell.assessment else "",
                status_label(cell.computed),
                cell.justification if cell.differs else "",
            ],
        )
    _finish_sheet(summary, widths=[16, 18, 20, *([12] * len(STATES)), 80, 18, 60])

    actions = book.create_sheet(_("Åtgärder")[:31])
    actions.append([_("Perspektiv"), _("Nr"), _("Mål"), _("Åtgärd"), _("Status"), _("Kommentar")])
    for section in page.sections:
        for action in section.actions:
            _append(
                actions,
                [
                    section.perspective.name,
                    action.number,
                    action.goal,
                    action.description,
                    str(action.get_status_display()),
                    action.comment,
                ],
            )
    _finish_sheet(actions, widths=[14, 6, 50, 70, 14, 70])

    if page.corrections is not None:
        fixed = book.create_sheet(_("Rättad efter fastställande")[:31])
        _append(fixed, [reopened_note(page)])
        fixed.append(
            [
                _("Kod"),
                _("Styrmått"),
                _("Uppdelning"),
                _("Ändring"),
                _("Fält"),
                _("Fastställt"),
                _("Nu"),
            ]
        )
        for row in correction_rows(page):
            _append(fixed, row)
        fixed.column_dimensions["A"].width = 22
        for column, width in zip("BCDEFG", (50, 12, 14, 18, 30, 30), strict=True):
            fixed.column_dimensions[column].width = width

    book.properties.title = f"{page.org_unit.name} {page.period}"
    if page.final is not None:
        book.properties.subject = final_note(page)
    book.properties.creator = "Styrkort"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


VALUE_COLUMN = 9  # "Periodens utfall" of the scorecard sheet
NATIONAL_COLUMN = 15  # "Riket (Kolada, helår)", its year in the next


def cell_comment(text: str, author: str) -> Comment:
    """A published cell comment as Excel's note on the value: its text, then who wrote it.

    A note is never evaluated, so a leading "=" stays text; control characters XML cannot
    hold are taken out (the write path already refuses them; a frozen report may predate it).
    """
    body = xml_safe(text)
    if author:
        body += f"\n– {xml_safe(author)}"
    note = Comment(body, xml_safe(author) or "Styrkort")
    note.width, note.height = 320, 160  # points: room for a few lines
    return note


def _xlsx_number(value) -> int | float | None:
    """A value as an Excel number: whole numbers as integers, the rest as floats."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _append(sheet, values: list[object]) -> None:
    # Stored text never fails the export (control characters) nor runs as a formula.
    sheet.append([xlsx_value(sheet, value) for value in values])


def _finish_sheet(sheet, *, widths: list[int]) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
