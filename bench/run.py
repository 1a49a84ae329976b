"""`make bench`: every bench at every data set size, three runs, one table of figures.

    make bench                                   # BENCH_SIZES=1M,5M, three runs
    BENCH_SIZES=1M,5M,20M BENCH_RUNS=3 make bench

For each size in BENCH_SIZES (100K, 1M, 5M, 20M: `load_demo --synthetic` with 1, 2, 10 or
38 divisions of 46 org units and 30 indicators, over 2 years for 100K and 8 for the others),
the data set lives in its own
database, BENCH_DB_PREFIX + "_1m" and so on, on the server of DATABASE_URL: built once
(created, migrated, loaded; it says how long that took) and reused after. Then, BENCH_RUNS
times, each bench in a fresh process:

- pages (bench/pages.py): each page's median against its own SQL replayed;
- API (bench/api.py): a page of 100 against /healthz, filtered pages against the page,
  and the rows of the value table each filtered page's statement reads;
- import (bench/import.py): BENCH_IMPORT_ROWS rows through the import service against COPY
  of the same rows into the table with its keys (0.4x), and without them for reference;
- at BENCH_LOAD_SIZE only (default 5M, the size the targets name): the exports
  (bench/exports.py) and the load script (bench/load.py).

It prints one table: per size and figure the median of the runs, their spread (min-max),
the baseline measured in the same runs, the ratio, the target and how many runs met it; then
how each figure grows with the data (the cost curve). Exits non-zero when a target is missed
in more than one run in three. Every figure is a ratio to a baseline taken on the same
machine at the same time, so a busy machine moves both.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, Result

# load_demo --synthetic sizes (divisions, years): divisions x 46 org units x 30 indicators
# x years x 48 measurements (16 periods, 3 breakdowns).
SIZES = {"100K": (1, 2), "1M": (2, 8), "5M": (10, 8), "20M": (38, 8)}
PYTHON = sys.executable


def database_url(name: str) -> str:
    base = urlsplit(os.environ.get("DATABASE_URL", "postgres://127.0.0.1:5432/styrkort"))
    return urlunsplit(base._replace(path=f"/{name}"))


def expected_measurements(size: str) -> int:
    divisions, years = SIZES[size]
    return divisions * 46 * 30 * years * 48


def ensure_dataset(size: str) -> str:
    """The database of a size, built if it is not there or not complete."""
    import psycopg

    name = f"{os.environ.get('BENCH_DB_PREFIX', 'styrkort_bench')}_{size.lower()}"
    url = database_url(name)
    admin = database_url("postgres")
    with psycopg.connect(admin, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    env.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    divisions, years = SIZES[size]
    with psycopg.connect(url) as connection:
        have = connection.execute(
            "SELECT count(*) FROM indicators_measurement m JOIN divisions_orgunit o "
            "ON o.id = m.org_unit_id WHERE o.code LIKE 'syn\\_%%'"
        ).fetchone()[0]
    if have < expected_measurements(size):
        print(f"building {name}: {expected_measurements(size):,} measurements ...", flush=True)
        started = time.monotonic()
        subprocess.run(
            [
                PYTHON, "manage.py", "load_demo", "--synthetic", "--divisions", str(divisions),
                "--areas", "5", "--units", "8", "--indicators", "30", "--years", str(years),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"built {name} in {(time.monotonic() - started) / 60:.1f} min", flush=True)
    with psycopg.connect(url, autocommit=True) as connection:
        # The statistics autovacuum gathers after a bulk load; a server without autovacuum
        # (as on the machine these figures were taken on) would plan every join blind.
        connection.execute("ANALYZE")
    return url


def child(kind: str) -> None:
    """One bench in this process; its results as JSON lines on stdout."""
    from bench.common import setup_django

    setup_django("config.settings_test" if kind == "pages" else "config.settings")
    if kind == "pages":
        import importlib

        results = importlib.import_module("bench.pages").run(
            int(os.environ.get("BENCH_PAGE_RUNS", "20"))
        )
    elif kind == "api":
        from bench.api import run

        results = run(seconds=float(os.environ.get("BENCH_API_SECONDS", "9")))
    elif kind == "exports":
        from bench.exports import run

        results = run(runs=1)
    elif kind == "load":
        from bench.load import run

        results = run(
            clients=20,
            rows=int(os.environ.get("BENCH_LOAD_ROWS", "300000")),
            seconds=float(os.environ.get("BENCH_LOAD_SECONDS", "90")),
            baseline_seconds=15,
        )
    else:
        raise SystemExit(f"unknown bench {kind}")
    for result in results:
        print("RESULT " + json.dumps(asdict(result)), flush=True)


def import_results(url: str) -> list[Result]:
    rows = int(os.environ.get("BENCH_IMPORT_ROWS", "100000"))
    output = subprocess.run(
        [PYTHON, "bench/import.py", "--rows", str(rows)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    service = re.search(r"import service:.*?([\d,]+) rows/s", output)
    copy = re.search(r"PostgreSQL COPY:.*?([\d,]+) rows/s", output)
    bare = re.search(r"COPY without the foreign keys:.*?([\d,]+) rows/s", output)
    # The target and its verdict as bench/import.py states them: one place for the ratio.
    target = re.search(r"ratio import/COPY: .*?\(target ([\d.]+)x: (met|MISSED)\)", output)
    if not (service and copy and bare and target):
        raise SystemExit(f"bench/import.py said:\n{output}")
    figure = float(service.group(1).replace(",", ""))
    with_keys, without_keys = (float(m.group(1).replace(",", "")) for m in (copy, bare))
    return [
        Result(
            name=f"import: {rows:,} rows through the service (rows/s)",
            unit="rows/s",
            figure=figure,
            baseline=with_keys,
            baseline_name="COPY, table's keys",
            target=f">= {target.group(1)}x",
            met=target.group(2) == "met",
        ),
        Result(
            name=f"import: {rows:,} rows, against COPY without keys (rows/s)",
            unit="rows/s",
            figure=figure,
            baseline=without_keys,
            baseline_name="COPY, no keys",
            target="(curve)",
            met=True,
        ),
    ]


def run_child(kind: str, url: str) -> list[Result]:
    process = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--child", kind],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"},
        capture_output=True,
        text=True,
    )
    results = [
        Result(**json.loads(line[7:]))
        for line in process.stdout.splitlines()
        if line.startswith("RESULT ")
    ]
    if process.returncode != 0 or not results:
        tail = "\n".join((process.stdout + process.stderr).splitlines()[-15:])
        raise SystemExit(f"bench {kind} failed:\n{tail}")
    return results


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return 0
    sizes = [s.strip().upper() for s in os.environ.get("BENCH_SIZES", "1M,5M").split(",") if s]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        raise SystemExit(f"BENCH_SIZES: unknown {unknown}; known: {', '.join(SIZES)}")
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    load_size = os.environ.get("BENCH_LOAD_SIZE", "5M").upper()
    if load_size not in sizes:
        load_size = sizes[-1]
    kinds_of = {size: ["pages", "api", "import"] for size in sizes}
    kinds_of[load_size] += ["exports", "load"]
    urls = {size: ensure_dataset(size) for size in sizes}
    collected: dict[tuple[str, str], list[Result]] = {}
    started = time.monotonic()
    for number in range(1, runs + 1):
        for size in sizes:
            for kind in kinds_of[size]:
                print(f"run {number}/{runs}, {size}: {kind} ...", flush=True)
                results = (
                    import_results(urls[size]) if kind == "import" else run_child(kind, urls[size])
                )
                for result in results:
                    collected.setdefault((size, result.name), []).append(result)
    print(f"\n{runs} runs in {(time.monotonic() - started) / 60:.1f} min\n")
    return report(sizes, collected, runs)


def report(sizes: list[str], collected: dict, runs: int) -> int:
    header = (
        f"{'size':4} {'figure':70} {'median':>10} {'spread (min-max)':>21} {'baseline':>10} "
        f"{'ratio':>6}  {'target':14} verdict"
    )
    print(header)
    print("-" * len(header))
    missed = False
    for (size, name), results in collected.items():
        figures = [r.figure for r in results]
        ratios = [r.ratio for r in results]
        met = sum(r.met for r in results)
        ok = met * 2 > len(results)
        if results[0].target.startswith("("):  # a figure for the record, with no target
            verdict = "-"
        else:
            missed |= not ok
            verdict = f"{'met' if ok else 'MISSED'} ({met}/{len(results)})"
        print(
            f"{size:4} {name[:70]:70} {statistics.median(figures):10,.1f} "
            f"{min(figures):10,.1f}-{max(figures):<10,.1f} "
            f"{statistics.median(r.baseline for r in results):10,.1f} "
            f"{statistics.median(ratios):6.2f}  {results[0].target:14} {verdict}"
        )
    print(
        "\nbaselines: " + "; ".join(sorted({f"{r[0].baseline_name}" for r in collected.values()}))
    )
    if len(sizes) > 1:
        print(f"\ncost curve: each figure's median at each size, and x the smallest ({sizes[0]})")
        names = sorted({name for (size, name) in collected if size == sizes[0]})
        print(f"{'figure':70} " + " ".join(f"{s:>16}" for s in sizes))
        data = [expected_measurements(s) for s in sizes]
        print(f"{'measurements':70} " + " ".join(f"{d:>9,} x{d / data[0]:<5.1f}" for d in data))
        for name in names:
            cells = []
            first = None
            for size in sizes:
                results = collected.get((size, name))
                if not results:
                    cells.append(f"{'-':>16}")
                    continue
                value = statistics.median(r.figure for r in results)
                first = first or value
                cells.append(f"{value:>9,.1f} x{value / first:<5.2f}")
            print(f"{name[:70]:70} " + " ".join(cells))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
