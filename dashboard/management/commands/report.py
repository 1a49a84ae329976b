import csv

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboard.documents import pdf, word
from dashboard.documents.content import tertial_document
from dashboard.selectors.final import ShownReport, shown_report
from divisions.selectors import get_org_unit
from domain.numbers import plain_decimal
from domain.periods import InvalidPeriod, Period

COLUMNS = [
    "perspective",
    "strategic_goal",
    "success_factor",
    "indicator",
    "breakdown",
    "target",
    "value",
    "status",
    "trend",
    "value_source",  # "own": reported for this unit; "units": what the units below add up to
    "coverage",  # for a sum: "covered/expected" leaf units
    "national",  # the country's latest annual value in Kolada (same gender), where mapped
    "national_year",
]
# Added to the CSV of a report corrected after its close: the value as closed, and what
# changed on the row ("added", "removed" or the changed fields, space-separated).
CORRECTION_COLUMNS = ["frozen_value", "corrected"]


class Command(BaseCommand):
    help = (
        "Print an org unit's scorecard for a period, one line per indicator and breakdown. "
        "A closed period prints the report as it was closed; a reopened one, its corrections."
    )

    def add_arguments(self, parser):
        parser.add_argument("--org-unit", required=True, help="org unit code, e.g. div_nara")
        parser.add_argument("--period", required=True, help="2022, 2022-T2 or 2022-08")
        parser.add_argument(
            "--format",
            choices=["csv", "text", "docx", "pdf"],
            default="text",
            help="docx and pdf: the tertial report as a document (needs --output)",
        )
        parser.add_argument("--output", help="the file a docx or pdf document is written to")

    def handle(self, *args, org_unit: str, period: str, format: str, output=None, **options):
        if format in ("docx", "pdf") and not output:
            raise CommandError(f"--format {format} writes a file: give --output FILE")
        unit = get_org_unit(org_unit)
        if unit is None:
            raise CommandError(f"unknown org unit '{org_unit}'")
        try:
            period_code = Period.parse(period).code
        except InvalidPeriod as exc:
            raise CommandError(str(exc)) from None
        report = shown_report(unit, period_code)
        if format in ("docx", "pdf"):
            document = tertial_document(report.page)
            data = (word.report_docx if format == "docx" else pdf.report_tagged_pdf)(document)
            try:
                with open(output, "wb") as file:
                    file.write(data)
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from None
            self.stdout.write(f"{output}: {len(data)} bytes")
            return
        rows = [
            [
                line.perspective,
                line.strategic_goal,
                line.success_factor,
                line.indicator.code,
                line.breakdown,
                line.target,
                plain_decimal(line.value) if line.value is not None else "",
                line.status,
                line.trend,
                ("units" if line.aggregated else "own") if line.value is not None else "",
                f"{line.aggregate.covered}/{line.aggregate.expected}" if line.aggregate else "",
                plain_decimal(line.national_value) if line.national_value is not None else "",
                str(line.national_year or ""),
            ]
            for line in report.page.lines
        ]
        if format == "csv":
            self._csv(report, rows)
        else:
            self._text(report, rows)

    def _csv(self, report: ShownReport, rows: list[list[str]]) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        corrections = report.corrections
        if corrections is None:
            writer.writerow(COLUMNS)
            writer.writerows(rows)
            return
        writer.writerow(COLUMNS + CORRECTION_COLUMNS)
        by_key = corrections.by_key
        for row in rows:
            change = by_key.get(f"{row[3]}/{row[4]}")
            writer.writerow([*row, *_correction_cells(change, current=row[6])])
        for change in corrections.changes:
            if change.kind == "removed":
                frozen = {f.field: f.frozen for f in change.fields}
                identity = ["", "", "", change.indicator, change.breakdown]
                writer.writerow(
                    [
                        *identity,
                        frozen.get("target") or "",
                        *[""] * (len(COLUMNS) - len(identity) - 1),
                        *_correction_cells(change),
                    ]
                )

    def _text(self, report: ShownReport, rows: list[list[str]]) -> None:
        page = report.page
        self.stdout.write(f"{page.org_unit.name} ({page.org_unit.code}), {page.period}")
        if page.final is not None:
            self.stdout.write(
                _("Slutlig rapport. Fastställd för %(unit)s %(when)s.")
                % {"unit": page.final.closed_on, "when": _when(page.final.closed_at)}
            )
        widths = [4, 4, 4, 30, 10, 24, 10, 14, 10, 6, 7, 10, 4]
        skip = {0, 1, 2}  # grouping columns are printed as headings in text form
        last = [None, None, None]
        for row in rows:
            for level in range(3):
                if row[level] != last[level]:
                    self.stdout.write("\n" + "  " * level + row[level])
                    last[level:] = [row[level], None, None][: 3 - level]
            cells = [
                str(c)[:w].ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
                if i not in skip
            ]
            self.stdout.write("      " + " ".join(cells).rstrip())
        corrections = report.corrections
        if corrections is None:
            return
        final = corrections.final
        self.stdout.write("\n" + _("Rättad efter fastställande"))
        self.stdout.write(
            _(
                "Rapporten fastställdes %(when)s för %(unit)s och öppnades igen %(reopened)s av "
                "%(who)s. Motivering: %(reason)s"
            )
            % {
                "when": _when(final.closed_at),
                "unit": final.closed_on,
                "reopened": _when(final.reopened_at),
                "who": final.reopened_by or _("kommandoraden"),
                "reason": final.reopen_reason,
            }
        )
        if not corrections.changes:
            self.stdout.write(_("Inga rader skiljer sig från den fastställda rapporten."))
        for change in corrections.changes:
            self.stdout.write(f"  {change.indicator} {change.breakdown} ({change.kind})")
            for field in change.fields:
                frozen = "-" if field.frozen in (None, "") else field.frozen
                now = "-" if field.now in (None, "") else field.now
                self.stdout.write(f"      {field.field}: {frozen} -> {now}")


def _correction_cells(change, *, current: str = "") -> list[str]:
    """frozen_value and corrected of a row: the value as closed (the current one when only
    other fields changed; none for an added row) and what changed."""
    if change is None:
        return [current, ""]
    frozen = {f.field: f.frozen for f in change.fields}
    if change.kind == "changed":
        value = frozen.get("value", current)
        return ["" if value is None else str(value), " ".join(f.field for f in change.fields)]
    value = frozen.get("value")
    return ["" if value is None else str(value), change.kind]


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""
