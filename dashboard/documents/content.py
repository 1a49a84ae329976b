"""What the tertial report says, as plain data: one assembly read by the DOCX and the PDF
writers, so both files say the same thing in the same order.

The page it is built from is dashboard.selectors.final.report_page's: a closed period's
report is the content frozen at the close, a reopened one the live report with its
corrections. Texts are cleaned here once (characters XML cannot hold removed, bounded in
length), so that neither writer breaks on what a user or an import wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dashboard.exports import final_note, reopened_note, target_cell, value_text
from dashboard.presentation import (
    STATES,
    TREND_SYMBOLS,
    breakdown_label,
    follow_up,
    has_national,
    national_text,
    status_count_word,
    status_explanation,
    status_label,
    status_symbol,
    trend_label,
)
from dashboard.selectors.division import DivisionPage, PerspectiveSection
from domain.periods import Period, PeriodKind

# A text longer than this is cut (with a note): a report is read, not an archive.
TEXT_LIMIT = 20_000
# Characters XML 1.0 cannot hold (C0 controls but tab, newline and carriage return, and
# the non-characters); python-docx refuses them and a PDF would show them as boxes.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
LANGUAGES = {"sv": "sv-SE", "en": "en-GB"}


def clean(text: object, limit: int = TEXT_LIMIT) -> str:
    """Text safe to write into either file: no XML-invalid characters, bounded length."""
    text = _NOT_XML.sub("", str(text or ""))
    if len(text) > limit:
        return text[:limit].rstrip() + " … " + _("(texten är avkortad)")
    return text


@dataclass(frozen=True)
class Status:
    """A state as the document writes it: symbol and word (never a colour alone)."""

    code: str
    symbol: str
    word: str

    @classmethod
    def of(cls, code: str) -> Status:
        return cls(code or "", status_symbol(code or ""), status_label(code or ""))

    def __str__(self) -> str:
        return f"{self.symbol} {self.word}".strip()


@dataclass(frozen=True)
class Trend:
    code: str
    symbol: str
    word: str

    @classmethod
    def of(cls, code: str) -> Trend:
        return cls(code or "", TREND_SYMBOLS.get(code or "", ""), trend_label(code or ""))

    def __str__(self) -> str:
        return f"{self.symbol} {self.word}".strip()


@dataclass(frozen=True)
class Row:
    """One row of an indicator table: an indicator and breakdown."""

    success_factor: str  # "" on the indicator's later rows (one cell spans them)
    indicator: str
    breakdown: str
    target: str
    follow_up: str
    value: str
    status: Status
    trend: Trend
    first_of_indicator: bool
    national: str = "–"  # the country's value and its year (Kolada), as the page's "Riket"
    note_number: int = 0  # the footnote marking the value cell, 0 without a comment


@dataclass(frozen=True)
class Note:
    """A published cell comment as a numbered footnote below its table."""

    number: int
    cell: str  # the indicator, and its breakdown where it is not the total
    text: str
    author: str


@dataclass(frozen=True)
class Analysis:
    indicator: str
    text: str
    override: str = ""  # the manual assessment and its reason, where one was made


@dataclass(frozen=True)
class GoalTable:
    goal: str
    rows: list[Row]
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class ActionRow:
    number: str
    goal: str
    description: str
    status: str
    comment: str
    owner: str
    due: str


@dataclass(frozen=True)
class Summary:
    """A row of "Måluppfyllelse i perspektiv": the shown status, the roll-up and the
    manager's judgement side by side."""

    perspective: str
    status: Status
    computed: Status
    judged: Status | None
    differs: bool
    justification: str
    counts: str


@dataclass(frozen=True)
class PerspectiveChapter:
    code: str
    name: str
    summary: Summary
    assessment: str  # the samlad bedömning's text
    tables: list[GoalTable]
    analyses: list[Analysis]
    actions: list[ActionRow]


@dataclass(frozen=True)
class TertialDocument:
    title: str
    org_unit: str
    org_unit_code: str
    region: str
    period: str
    language: str  # BCP 47, e.g. sv-SE
    created: str
    final: str  # the closed report's stamp, "" while open
    corrected: str  # after a reopening: that it was corrected, and why
    summary: list[Summary]
    chapters: list[PerspectiveChapter]
    legend: list[tuple[Status, str]] = field(default_factory=list)
    # A "Riket" column only where some line has the country's value, as on the page.
    national_column: bool = False

    @property
    def author(self) -> str:
        return self.org_unit if self.region == self.org_unit else f"{self.region}, {self.org_unit}"

    def filename(self, extension: str) -> str:
        return f"tertialrapport_{self.org_unit_code}_{self.period}.{extension}"


def document_title(period: str) -> str:
    kind = Period.parse(period).kind
    if kind == PeriodKind.YEAR:
        return _("Årsrapport")
    if kind == PeriodKind.MONTH:
        return _("Månadsrapport")
    return _("Tertialrapport")


def tertial_document(page: DivisionPage) -> TertialDocument:
    """The report of the page's unit and period as the document writes it."""
    chapters = [_chapter(section) for section in page.sections]
    region = page.ancestors[0].name if page.ancestors else page.org_unit.name
    return TertialDocument(
        title=f"{document_title(page.period)} {page.period} – {clean(page.org_unit.name, 300)}",
        org_unit=clean(page.org_unit.name, 300),
        org_unit_code=page.org_unit.code,
        region=clean(region, 300),
        period=page.period,
        language=LANGUAGES.get((get_language() or "sv")[:2], "sv-SE"),
        created=timezone.localtime().strftime("%Y-%m-%d %H:%M"),
        final=clean(final_note(page)),
        corrected=clean(reopened_note(page)) if page.corrections is not None else "",
        summary=[chapter.summary for chapter in chapters],
        chapters=chapters,
        legend=[(Status.of(state), status_explanation(state)) for state in STATES],
        national_column=has_national(page.lines),
    )


def _summary(section: PerspectiveSection) -> Summary:
    cell = section.cell
    counts = ", ".join(
        f"{number} {status_count_word(state)}" for state, number in cell.counts.items() if number
    )
    return Summary(
        perspective=clean(section.perspective.name, 300),
        status=Status.of(cell.status),
        computed=Status.of(cell.computed)
        if cell.computed
        else Status("", "", _("ingen (inga styrmått)")),
        judged=Status.of(cell.judged) if cell.from_assessment else None,
        differs=cell.differs,
        justification=clean(cell.justification),
        counts=counts,
    )


def _chapter(section: PerspectiveSection) -> PerspectiveChapter:
    tables: list[GoalTable] = []
    analyses: list[Analysis] = []
    for goal in section.report.goals if section.report else []:
        rows: list[Row] = []
        notes: list[Note] = []
        for factor in goal.factors:
            for group in factor.indicators:
                for index, line in enumerate(group.lines):
                    breakdown = "" if line.breakdown == "total" else breakdown_label(line.breakdown)
                    rows.append(
                        Row(
                            success_factor=clean(factor.name, 1000) if index == 0 else "",
                            indicator=clean(group.indicator.name, 1000),
                            breakdown=breakdown,
                            target=clean(target_cell(line), 1000),
                            follow_up=follow_up(group.indicator.follow_up) if index == 0 else "",
                            value=clean(value_text(line), 1000),
                            status=Status.of(line.status),
                            trend=Trend.of(line.trend),
                            first_of_indicator=index == 0,
                            national=national_text(line),
                            note_number=line.note_number if line.note else 0,
                        )
                    )
                    if line.note:  # a line frozen before comments existed has none
                        notes.append(_note(group.indicator.name, breakdown, line))
                analysis = _analysis(group.indicator.name, group.lines[0].assessment)
                if analysis is not None:
                    analyses.append(analysis)
        tables.append(GoalTable(clean(goal.name, 1000), rows, notes))
    actions = [
        ActionRow(
            number=clean(action.number, 50),
            goal=clean(action.goal),
            description=clean(action.description),
            status=str(action.get_status_display() or ""),
            comment=clean(action.comment),
            owner=clean(action.owner, 300),
            due=action.due_date.isoformat() if action.due_date else "",
        )
        for action in section.actions
    ]
    return PerspectiveChapter(
        code=section.perspective.code,
        name=clean(section.perspective.name, 300),
        summary=_summary(section),
        assessment=clean(section.cell.assessment.text) if section.cell.assessment else "",
        tables=tables,
        analyses=analyses,
        actions=actions,
    )


def _analysis(indicator: str, assessment) -> Analysis | None:
    """The indicator's analysis text, and its manual assessment where one was made."""
    if assessment is None:
        return None
    override = ""
    if assessment.override_status:
        override = _("Manuell bedömning: %(status)s (beräknad: %(computed)s). %(why)s") % {
            "status": status_label(assessment.override_status),
            "computed": status_label(assessment.computed_status),
            "why": clean(assessment.override_comment),
        }
    if not (assessment.analysis or override):
        return None
    return Analysis(clean(indicator, 1000), clean(assessment.analysis), override)


def _note(indicator: str, breakdown: str, line) -> Note:
    cell = clean(indicator, 1000) + (f" ({breakdown})" if breakdown else "")
    return Note(line.note_number, cell, clean(line.note), clean(line.note_by, 300))
