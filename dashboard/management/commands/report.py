import csv

from django.core.management.base import BaseCommand, CommandError

from dashboard.selectors.report import division_report
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
]


class Command(BaseCommand):
    help = "Print an org unit's scorecard for a period, one line per indicator and breakdown."

    def add_arguments(self, parser):
        parser.add_argument("--org-unit", required=True, help="org unit code, e.g. div_nara")
        parser.add_argument("--period", required=True, help="2022, 2022-T2 or 2022-08")
        parser.add_argument("--format", choices=["csv", "text"], default="text")

    def handle(self, *args, org_unit: str, period: str, format: str, **options):
        unit = get_org_unit(org_unit)
        if unit is None:
            raise CommandError(f"unknown org unit '{org_unit}'")
        try:
            period_code = Period.parse(period).code
        except InvalidPeriod as exc:
            raise CommandError(str(exc)) from None
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
            ]
            for line in division_report(unit, period_code)
        ]
        if format == "csv":
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(COLUMNS)
            writer.writerows(rows)
            return
        self.stdout.write(f"{unit.name} ({unit.code}), {period_code}")
        widths = [4, 4, 4, 30, 10, 24, 10, 14, 10, 6, 7]
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
