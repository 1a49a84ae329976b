"""Check every stored assessment against the pure rules, row by row (see
indicators.recompute.verify_assessments): the proof that the bulk recompute and the domain
rules agree, e.g. over the whole synthetic data set after `load_demo --synthetic`."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from indicators.models import Assessment, Indicator
from indicators.recompute import verify_assessments

SHOWN = 20  # differences printed in full


class Command(BaseCommand):
    help = "Compare every stored assessment with what the domain rules give its row."

    def add_arguments(self, parser):
        parser.add_argument(
            "--prefix", default="", help="only indicators whose code starts with this"
        )

    def handle(self, *args, prefix: str, **options):
        started = time.monotonic()
        ids = list(Indicator.objects.filter(code__startswith=prefix).values_list("pk", flat=True))
        stored = Assessment.objects.filter(indicator_id__in=ids).count()
        found = 0
        for mismatch in verify_assessments(indicator_ids=ids):
            found += 1
            if found <= SHOWN:
                self.stdout.write(f"  {mismatch}")
        self.stdout.write(
            f"{stored:,} assessments of {len(ids):,} indicators checked against the rules in "
            f"{time.monotonic() - started:.1f} s: {found:,} differences"
        )
        if found:
            raise CommandError(f"{found:,} assessments differ from the rules")
