import argparse
import time

from django.core.management.base import BaseCommand, CommandError

from demo.nara import DEMO_PASSWORD, DEMO_USERS, load_demo
from demo.synthetic import (
    BREAKDOWNS,
    PERIODS_PER_YEAR,
    SyntheticSizes,
    generate_synthetic,
)
from indicators.models import Measurement

PROGRESS_EVERY_SECONDS = 2.0
DEFAULTS = SyntheticSizes()
SIZE_OPTIONS = ("divisions", "areas", "units", "indicators", "years", "first_year", "seed")


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


class Command(BaseCommand):
    help = (
        "Load the demo (Division Nära T2 2022, Division Länssjukvård 2022 and 2023) and one "
        "demo user per role; with --synthetic, also a multi-year synthetic history (clearly "
        "named test data)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--synthetic",
            action="store_true",
            help="Also generate a multi-year synthetic history (clearly named test data).",
        )
        sizes = parser.add_argument_group("synthetic history sizes")
        sizes.add_argument(
            "--divisions",
            type=_count(1),
            default=DEFAULTS.divisions,
            help="synthetic divisions (default %(default)s)",
        )
        sizes.add_argument(
            "--areas",
            type=_count(0),
            default=DEFAULTS.areas,
            help="areas (VO) per division (default %(default)s)",
        )
        sizes.add_argument(
            "--units",
            type=_count(0),
            default=DEFAULTS.units,
            help="units per area (default %(default)s)",
        )
        sizes.add_argument(
            "--indicators",
            type=_count(1),
            default=DEFAULTS.indicators,
            help="indicators per division (default %(default)s)",
        )
        sizes.add_argument(
            "--years",
            type=_count(1),
            default=DEFAULTS.years,
            help="years of history (default %(default)s)",
        )
        sizes.add_argument(
            "--first-year",
            type=_count(1900),
            default=DEFAULTS.first_year,
            help="first year of the history (default %(default)s)",
        )
        sizes.add_argument(
            "--seed",
            type=int,
            default=DEFAULTS.seed,
            help="random seed; the same seed and sizes give the same values (default %(default)s)",
        )
        sizes.add_argument(
            "--measurements-estimate",
            action="store_true",
            help="Only print how many measurements the sizes give, and exit without loading.",
        )

    def handle(self, *args, synthetic: bool, measurements_estimate: bool, **options):
        try:
            sizes = SyntheticSizes(**{name: options[name] for name in SIZE_OPTIONS})
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if measurements_estimate:
            self.stdout.write(self._estimate(sizes))
            return
        changed = [n for n in SIZE_OPTIONS if options[n] != getattr(DEFAULTS, n)]
        if changed and not synthetic:
            flags = ", ".join("--" + n.replace("_", "-") for n in changed)
            raise CommandError(f"{flags} only apply together with --synthetic")

        started = time.monotonic()
        if synthetic:
            self.stdout.write(self._estimate(sizes))
        result = load_demo()
        imports = result.measurements
        counts = (
            f"{sum(m.created for m in imports)} created, {sum(m.changed for m in imports)} "
            f"changed, {sum(m.unchanged for m in imports)} unchanged"
            if imports
            else "none imported"
        )
        self.stdout.write(
            f"Demo scorecards: {result.scorecard.total_created} created, "
            f"{result.scorecard.total_changed} changed; measurements: {counts}; "
            f"actions: {result.actions_created} created"
        )
        analyses = result.analyses
        closed = f", {analyses.closed} in a closed period left as they are"
        self.stdout.write(
            f"Analysis texts: {analyses.written} written, {analyses.unchanged} unchanged"
            + (closed if analyses.closed else "")
        )
        if result.skipped_rows:
            closed = ", ".join(f"{period} for {unit}" for period, unit in result.skipped)
            self.stdout.write(
                f"{result.skipped_rows} row(s) skipped: their period is closed ({closed}); "
                f"the values there stay as they are."
            )
        if result.benchmarks is not None:
            self.stdout.write(
                f"National comparison (recorded Kolada answers): {result.benchmarks.summary()}"
            )
        users = ", ".join(u.username for u in DEMO_USERS)
        self.stdout.write(f"Demo users ({users}), password: {DEMO_PASSWORD}")
        if synthetic:
            self._synthetic(sizes, started)

    def _estimate(self, sizes: SyntheticSizes) -> str:
        return (
            f"Synthetic history: {sizes.divisions} divisions x {sizes.org_units_per_division} "
            f"org units x {sizes.indicators} indicators x {sizes.years} years x "
            f"{PERIODS_PER_YEAR} periods x {len(BREAKDOWNS)} breakdowns = "
            f"{sizes.expected_measurements:,} measurements"
        )

    def _synthetic(self, sizes: SyntheticSizes, started: float) -> None:
        last_print = time.monotonic()
        total = sizes.expected_measurements

        def progress(phase: str, rows: int, elapsed: float) -> None:
            nonlocal last_print
            now = time.monotonic()
            throttled = now - last_print < PROGRESS_EVERY_SECONDS
            if phase == "measurements" and rows < total and throttled:
                return
            last_print = now
            rate = rows / elapsed if elapsed > 0 else 0.0
            if phase == "measurements":
                self.stdout.write(f"  {rows:,} / {total:,} measurements, {rate:,.0f} rows/s")
            else:
                self.stdout.write(f"  {phase}: {rows:,} assessments so far ({elapsed:.1f} s)")

        result = generate_synthetic(sizes, progress=progress)
        if result.skipped:
            self.stdout.write(
                f"Synthetic history already loaded (import #{result.record.pk}, same sizes and "
                f"seed); nothing changed."
            )
        else:
            rate = result.measurements / result.insert_seconds if result.insert_seconds else 0.0
            self.stdout.write(
                f"Synthetic history: {result.measurements:,} measurements in "
                f"{result.insert_seconds:.1f} s ({rate:,.0f} rows/s); {result.assessments:,} "
                f"assessments in {result.assess_seconds:.1f} s; {result.purged:,} earlier "
                f"synthetic measurements removed"
            )
        self.stdout.write(
            f"Measurements in the database: {Measurement.objects.count():,}; "
            f"total time {time.monotonic() - started:.1f} s"
        )
