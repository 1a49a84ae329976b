"""CSV and XLSX exports through gunicorn: rows/s, and the worker's memory against row count.

    DATABASE_URL=postgres://127.0.0.1:5432/styrkort_bench_5m SECRET_KEY=x \\
        .venv/bin/python bench/exports.py [--runs 3]

On the synthetic data set (bench/run.py builds it): one gunicorn worker on loopback. For
measurements and assessments, as CSV and as XLSX, a large export (a division's values of
one year) and a small one (one month, about 16 times fewer rows):

- rows/s of the large export, downloaded whole, the median of --runs, beside the rate at
  which a plain cursor reads the same rows (the baseline): target 50,000 rows/s or better;
- the worker's peak resident memory during each export (Linux's VmHWM, reset before each
  through /proc/PID/clear_refs): the large export's peak over the small one's. Memory flat
  in the row count: at most 10 % more for 16 times the rows.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import Result, free_port, get, median, setup_django, start_gunicorn, stop

RATE_TARGET = 50_000
MEMORY_TARGET = 1.10


def _worker_pid(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    if len(children) != 1:
        raise SystemExit(f"expected one gunicorn worker, found {children}")
    return int(children[0])


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise SystemExit("no VmHWM in /proc: Linux is needed for the memory figure")


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def scope() -> tuple[str, str, str]:
    """The first synthetic division, its newest full year and a month of that year."""
    from django.db import connection

    from divisions.models import OrgUnit

    division = (
        OrgUnit.objects.filter(kind="division", code__startswith="syn_div_")
        .order_by("code")
        .first()
    )
    if division is None:
        raise SystemExit("No synthetic division: load the synthetic data set first (bench/run.py)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT max(period) FROM indicators_measurement WHERE org_unit_id = %s "
            "AND period ~ '^[0-9]{4}$'",
            [division.pk],
        )
        year = cursor.fetchone()[0]
    return division.code, year, f"{year}-06"


def raw_rate(table: str, division: str, periods: tuple[str, str]) -> tuple[int, float]:
    """(rows, rows/s) of a plain cursor reading the export's rows with their codes."""
    from django.db import connection

    from divisions.models import OrgUnit

    unit = OrgUnit.objects.get(code=division)
    sql = (
        f"SELECT t.*, i.code, o.code FROM {table} t "
        "JOIN indicators_indicator i ON i.id = t.indicator_id "
        "JOIN divisions_orgunit o ON o.id = t.org_unit_id "
        "WHERE o.path LIKE %s AND t.period >= %s AND t.period < %s ORDER BY t.id"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, [unit.path + "%", *periods])
        rows = len(cursor.fetchall())
    return rows, rows / (time.perf_counter() - started)


def run(runs: int = 3) -> list[Result]:
    from bench.api import bench_token

    division, year, month = scope()
    key = bench_token()
    from django.db import connection

    with connection.cursor() as cursor:
        # Fresh planner statistics, as autovacuum keeps them after a bulk load (a server
        # without autovacuum, as here, plans the assessments' joins for 29 rows, not 22,000).
        cursor.execute("ANALYZE indicators_measurement, indicators_assessment")

    baselines = {
        table: raw_rate(f"indicators_{table[:-1]}", division, (year, str(int(year) + 1)))
        for table in ("measurements", "assessments")
    }
    connection.close()
    auth = {"Authorization": f"Token {key}"}
    port = free_port()
    server = start_gunicorn(port, workers=1)
    results = []
    try:
        worker = _worker_pid(server.pid)
        for table in ("measurements", "assessments"):
            base = f"/api/v1/{table}/?org_unit={division}&subtree=true"
            large = f"{base}&period_from={year}-01&period_to={year}"
            small = f"{base}&period_from={month}&period_to={month}"
            rows, raw = baselines[table]
            for fmt in ("csv", "xlsx"):
                status, _size, _headers = get(port, f"{small}&format={fmt}", auth)
                if status != 200:
                    raise SystemExit(f"{small}&format={fmt} answered {status}")
                rates, peaks = [], {"small": [], "large": []}
                for _ in range(runs):
                    for size, path in (("small", small), ("large", large)):
                        _reset_peak(worker)
                        started = time.perf_counter()
                        status, _bytes, _headers = get(port, f"{path}&format={fmt}", auth)
                        seconds = time.perf_counter() - started
                        if status != 200:
                            raise SystemExit(f"{path}&format={fmt} answered {status}")
                        peaks[size].append(_peak_kib(worker) / 1024)
                        if size == "large":
                            rates.append(rows / seconds)
                results.append(
                    Result(
                        name=f"export: {table} {fmt.upper()}, {rows:,} rows (rows/s)",
                        unit="rows/s",
                        figure=median(rates),
                        baseline=raw,
                        baseline_name="cursor read",
                        target=f">= {RATE_TARGET:,}/s",
                        met=median(rates) >= RATE_TARGET,
                        samples=rates,
                    )
                )
                results.append(
                    Result(
                        name=f"export: {table} {fmt.upper()}, worker peak MB",
                        unit="MB",
                        figure=median(peaks["large"]),
                        baseline=median(peaks["small"]),
                        baseline_name="1/16 the rows",
                        target=f"<= {MEMORY_TARGET:.2f}x",
                        met=median(peaks["large"]) <= MEMORY_TARGET * median(peaks["small"]),
                        samples=peaks["large"],
                    )
                )
    finally:
        stop(server)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    print(f"database {os.environ.get('DATABASE_URL', '').rsplit('/', 1)[-1]}")
    results = run(args.runs)
    for r in results:
        print(
            f"{r.name:55} {r.figure:12,.1f} {r.baseline:12,.1f} {r.ratio:6.2f} {r.target:12} "
            f"{'met' if r.met else 'MISSED'}"
        )
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
