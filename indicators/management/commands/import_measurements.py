from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from indicators.imports.run import ImportRejected, import_measurements
from indicators.models import ImportSource


class Command(BaseCommand):
    help = (
        "Import measurements from a CSV or XLSX file (indicator,org_unit,period,breakdown,value,"
        "numerator,denominator,comment). Any bad row rejects the whole file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            handle = file.open("rb")
        except OSError as exc:
            raise CommandError(f"{file}: cannot open: {exc.strerror}") from exc
        with handle:
            try:
                result = import_measurements(
                    fileobj=handle, filename=file.name, source=ImportSource.COMMAND
                )
            except ImportRejected as exc:
                for error in exc.errors:
                    self.stderr.write(f"{file.name}: {error}")
                if exc.rejected_rows > len(exc.errors):
                    self.stderr.write(f"... and more; {exc.rejected_rows} rows rejected in all")
                raise CommandError(
                    f"{file.name}: rejected, nothing was imported (import #{exc.record.pk})"
                ) from None
        self.stdout.write(
            f"{file.name}: {result.created} created, {result.changed} changed, "
            f"{result.unchanged} unchanged (import #{result.record.pk})"
        )
