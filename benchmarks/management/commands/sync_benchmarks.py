"""`manage.py sync_benchmarks`: fetch the mapped KPIs from Kolada now (or a recorded file)."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.models import Source
from audit.services import Actor
from benchmarks import sync
from benchmarks.kolada import KOLADA_SOURCE
from benchmarks.recorded import RecordedKolada
from domain import kolada


class Command(BaseCommand):
    help = "Fetch the Kolada KPIs that indicators are mapped to: region, country and peers."

    def add_arguments(self, parser):
        parser.add_argument("--kpi", action="append", default=[], help="only this KPI id")
        parser.add_argument(
            "--recorded",
            type=Path,
            help="read Kolada's answers from this recorded-response file instead of the API",
        )
        parser.add_argument(
            "--source", default="", help="source text for recorded values (default: Kolada)"
        )

    def handle(self, *args, **options):
        for kpi_id in options["kpi"]:
            if not kolada.is_kpi_id(kpi_id):
                raise CommandError(f"--kpi {kpi_id!r}: a Kolada id is a letter and five digits")
        if options["recorded"]:
            if not options["recorded"].is_file():
                raise CommandError(f"{options['recorded']}: no such file")
            client = RecordedKolada(options["recorded"], source=options["source"] or KOLADA_SOURCE)
        else:
            client = sync.default_client()
        result = sync.sync_benchmarks(
            client=client,
            kpis=options["kpi"] or None,
            actor=Actor(user=None, source=Source.COMMAND),
        )
        self.stdout.write(result.summary())
        if result.errors and len(result.errors) >= len(result.kpis):
            raise CommandError("no KPI could be fetched; the stored values are kept")
