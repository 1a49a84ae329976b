"""Benchmark: the measurement import service against PostgreSQL's own COPY of the same rows.

    DATABASE_URL=postgres://127.0.0.1:5432/styrkort_bench .venv/bin/python bench/import.py \
        --rows 1000000

Builds a synthetic scorecard (a division of --units health centres, --indicators monthly
indicators with a women/men split, all coded `bench_...`), writes N rows as Swedish Excel
CSV (`;`, decimal comma), then in the same run:

1. times `indicators.imports.run.import_measurements` end to end on that file (hash, parse,
   validate, write, history, recompute of the dependent assessments, the Import record);
2. times `COPY ... FROM STDIN` of the same rows, already resolved to ids, into a fresh table
   of the measurement table's shape (`LIKE indicators_measurement INCLUDING ALL`: the same
   columns, checks and indexes) with its three foreign keys: what any writer of these rows
   into the table pays, and the baseline of the target (issue 13: 0.4x or better). COPY
   into the table without its keys is timed too and printed for reference: the per-row key
   checks alone take it to about a third of that, so no import that keeps them gets near it;

and prints rows/s for both, their ratio and the peak RSS of the process. The database is
migrated first; earlier bench data is removed, everything else is left alone.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")

BREAKDOWNS = ("total", "women", "men")
PREFIX = "bench_"
TARGET_RATIO = 0.4  # the import against COPY of its rows into the table with its keys
FIRST_YEAR = 2010  # the first month the file holds; the bench division's scorecard year
TARGETS = (  # a mix of the target kinds the rules know
    {"kind": "at_least", "value": 80},
    {"kind": "at_most", "value": 20},
    {"kind": "increase", "value": None},
    {"kind": "none", "value": None},
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=100)
    parser.add_argument("--indicators", type=int, default=20)
    parser.add_argument(
        "--reimport",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="then import the file again with this share of values changed (e.g. 0.1)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench data and files")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL to a PostgreSQL database, e.g. .../styrkort_bench")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0, skip_checks=True)
    purge()
    codes = load_bench_scorecard(units=args.units, indicators=args.indicators)
    workdir = Path(tempfile.mkdtemp(prefix="styrkort-bench-"))
    try:
        run(args, codes, workdir)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if not args.keep:
        purge()


def run(args: argparse.Namespace, codes: dict, workdir: Path) -> None:
    csv_path, copy_path = workdir / "bench_measurements.csv", workdir / "bench_copy.tsv"
    started = time.perf_counter()
    write_files(args.rows, codes, csv_path, copy_path)
    size = csv_path.stat().st_size
    print(
        f"{args.rows:,} rows, {size / 1e6:.1f} MB CSV, written in "
        f"{time.perf_counter() - started:.1f} s ({workdir})",
        flush=True,
    )

    # COPY before and after the import: the machine's load drifts, the mean is fairer.
    copy_before = time_copy(copy_path, foreign_keys=True)
    import_seconds, result = time_import(csv_path)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    copy_after = time_copy(copy_path, foreign_keys=True)
    copy_bare = time_copy(copy_path)
    copy_seconds = (copy_before + copy_after) / 2
    rows = args.rows
    import_rate, copy_rate = rows / import_seconds, rows / copy_seconds
    print(
        f"import service:  {import_seconds:6.1f} s {import_rate:>9,.0f} rows/s  "
        f"({result.created:,} created, {result.changed:,} changed, import #{result.record.pk})"
    )
    print(
        f"PostgreSQL COPY: {copy_seconds:6.1f} s {copy_rate:>9,.0f} rows/s  (into the table's "
        f"shape with its keys; mean of {rows / copy_before:,.0f} before and "
        f"{rows / copy_after:,.0f} after the import)"
    )
    ratio = import_rate / copy_rate
    print(
        f"ratio import/COPY: {ratio:.2f} (target {TARGET_RATIO}x: "
        f"{'met' if ratio >= TARGET_RATIO else 'MISSED'})   peak RSS: {peak_mb:,.0f} MB"
    )
    print(
        f"for reference, COPY without the foreign keys: {copy_bare:6.1f} s "
        f"{rows / copy_bare:>9,.0f} rows/s (import ratio {copy_bare / import_seconds:.2f}; "
        f"COPY with the keys {copy_bare / copy_seconds:.2f} of it)"
    )
    if args.reimport:
        changed = workdir / "bench_changed.csv"
        count = change_values(csv_path, changed, share=args.reimport)
        seconds, again = time_import(changed)
        print(
            f"re-import, {count:,} values changed: {seconds:6.1f} s {rows / seconds:>9,.0f} "
            f"rows/s  ({again.created:,} created, {again.changed:,} changed, "
            f"{again.unchanged:,} unchanged)"
        )
        changed.unlink()


def change_values(source: Path, target: Path, *, share: float) -> int:
    """The same file with every 1/share-th value changed (and so a new SHA-256)."""
    every = max(1, round(1 / share))
    count = 0
    with (
        source.open(encoding="utf-8", newline="") as inp,
        target.open("w", encoding="utf-8", newline="") as out,
    ):
        out.write(next(inp))
        for number, line in enumerate(inp):
            if number % every == 0:
                cells = line.split(";")
                cells[4] = cells[4].replace(",", ".")
                cells[4] = f"{float(cells[4]) + 1:.1f}".replace(".", ",")
                line = ";".join(cells)
                count += 1
            out.write(line)
    return count


def load_bench_scorecard(*, units: int, indicators: int) -> dict:
    """Org units and indicators through the real definition loader (the bench division's
    scorecard from FIRST_YEAR on); returns code -> id maps."""
    from demo.nara import DATA_DIR
    from divisions.models import OrgUnit
    from indicators.definitions import load_scorecard, read_definition
    from indicators.models import Indicator

    # Perspectives, goals and success factors of the Nära demo; units and indicators our own.
    definition = read_definition((DATA_DIR / "scorecard.yaml").read_text(encoding="utf-8"))
    factors = [f["code"] for f in definition["success_factors"]]
    definition["org_units"] = [
        {
            "code": "region_norrbotten",
            "name": "Region Norrbotten",
            "parent": None,
            "kind": "region",
        },
        {
            "code": f"{PREFIX}div",
            "name": "Benchdivision (testdata)",
            "parent": "region_norrbotten",
            "kind": "division",
        },
    ] + [
        {
            "code": f"{PREFIX}u{n:04d}",
            "name": f"Hälsocentral {n} (testdata)",
            "parent": f"{PREFIX}div",
            "kind": "unit",
        }
        for n in range(1, units + 1)
    ]
    definition["indicators"] = [
        {
            "code": f"{PREFIX}i{n:03d}",
            "success_factor": factors[n % len(factors)],
            "name": f"Andel besök inom vårdgarantin {n} (testdata)",
            "unit": "percent",
            "direction": "increase",
            "target": TARGETS[n % len(TARGETS)],
            "follow_up": ["MONTH"],
            "breakdowns": list(BREAKDOWNS),
        }
        for n in range(1, indicators + 1)
    ]
    load_scorecard(definition=definition, year=FIRST_YEAR)
    return {
        "units": dict(
            OrgUnit.objects.filter(code__startswith=f"{PREFIX}u").values_list("code", "pk")
        ),
        "indicators": dict(
            Indicator.objects.filter(code__startswith=PREFIX).values_list("code", "pk")
        ),
    }


def write_files(rows: int, codes: dict, csv_path: Path, copy_path: Path) -> None:
    """The same rows twice: as Swedish Excel CSV for the service, resolved to ids for COPY."""
    units, indicators = sorted(codes["units"].items()), sorted(codes["indicators"].items())
    written = 0
    with (
        csv_path.open("w", encoding="utf-8", newline="") as csv_file,
        copy_path.open("w", encoding="utf-8") as copy_file,
    ):
        csv_file.write(
            "indicator;org_unit;period;breakdown;value;numerator;denominator;comment\r\n"
        )
        month = 0
        while written < rows:
            period = f"{FIRST_YEAR + month // 12}-{month % 12 + 1:02d}"
            csv_lines, copy_lines = [], []
            for unit_code, unit_id in units:
                for indicator_code, indicator_id in indicators:
                    for breakdown in BREAKDOWNS:
                        if written == rows:
                            break
                        denominator = 200 + (written * 7919) % 800
                        numerator = (written * 104729) % denominator
                        value = f"{100 * numerator / denominator:.1f}"
                        csv_lines.append(
                            f"{indicator_code};{unit_code};{period};{breakdown};"
                            f"{value.replace('.', ',')};{numerator};{denominator};\r\n"
                        )
                        copy_lines.append(
                            f"{indicator_id}\t{unit_id}\t{period}\t{breakdown}\t{value}\t"
                            f"{numerator}\t{denominator}\t\t{written + 2}\t2026-01-01 00:00+00\n"
                        )
                        written += 1
            csv_file.writelines(csv_lines)
            copy_file.writelines(copy_lines)
            month += 1


def time_import(path: Path):
    from indicators.imports.run import import_measurements
    from indicators.models import ImportSource

    started = time.perf_counter()
    with path.open("rb") as handle:
        result = import_measurements(
            fileobj=handle, filename=path.name, source=ImportSource.COMMAND
        )
    return time.perf_counter() - started, result


def time_copy(path: Path, *, foreign_keys: bool = False) -> float:
    """COPY the rows into a fresh table shaped like indicators_measurement; seconds taken.

    LIKE ... INCLUDING ALL copies columns, defaults, checks and indexes, not foreign keys;
    with foreign_keys=True the table gets the measurement table's three as well.
    """
    from django.db import connection

    columns = (
        "indicator_id, org_unit_id, period, breakdown, value, numerator, denominator, comment, "
        "source_row, updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_measurement")
        cursor.execute(
            "CREATE TABLE bench_copy_measurement (LIKE indicators_measurement INCLUDING ALL)"
        )
        if foreign_keys:
            for column, table in (
                ("indicator_id", "indicators_indicator"),
                ("org_unit_id", "divisions_orgunit"),
                ("source_import_id", "indicators_import"),
            ):
                cursor.execute(
                    f"ALTER TABLE bench_copy_measurement ADD FOREIGN KEY ({column}) "
                    f"REFERENCES {table} DEFERRABLE INITIALLY DEFERRED"
                )
        cursor.execute("SELECT max(id) FROM indicators_import")
        (import_id,) = cursor.fetchone()
    tail = f"\t{'\\N' if import_id is None else import_id}\n".encode()
    try:
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            path.open("rb") as handle,
            cursor.copy(
                f"COPY bench_copy_measurement ({columns}, source_import_id) FROM STDIN"
            ) as copy,
        ):
            while block := handle.read(1 << 16):
                # The row's import, as the service writes it (the file ends lines at it).
                copy.write(block.replace(b"\n", tail))
        seconds = time.perf_counter() - started  # autocommit: the COPY has committed here
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_copy_measurement")
    return seconds


def purge() -> None:
    """Remove earlier bench data: values, history, assessments and the bench's imports."""
    from django.db import connection

    from indicators.models import Import

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_measurement")
        cursor.execute(
            "DELETE FROM indicators_measurementrevision WHERE measurement_id IN (SELECT m.id "
            "FROM indicators_measurement m JOIN indicators_indicator i ON i.id = m.indicator_id "
            "WHERE i.code LIKE %s)",
            [f"{PREFIX}%"],
        )
        for table in ("indicators_measurement", "indicators_assessment"):
            cursor.execute(
                f"DELETE FROM {table} WHERE indicator_id IN "
                "(SELECT id FROM indicators_indicator WHERE code LIKE %s)",
                [f"{PREFIX}%"],
            )
    Import.objects.filter(filename="bench_measurements.csv").delete()
    with connection.cursor() as cursor:
        # Every run starts from the same state: no dead rows, fresh planner statistics.
        cursor.execute(
            "VACUUM ANALYZE indicators_measurement, indicators_measurementrevision,"
            " indicators_assessment, indicators_import"
        )


if __name__ == "__main__":
    main()
