"""Pages under load: signed-in readers over loopback while a 300,000-row import runs.

    DATABASE_URL=postgres://127.0.0.1:5432/styrkort_bench_5m SECRET_KEY=x \\
        .venv/bin/python bench/load.py [--clients 20] [--rows 300000] [--seconds 90]

On the synthetic data set (bench/run.py builds it): gunicorn on a free loopback port (the
README's production command: 2 workers), and --clients readers, each with its own signed-in
session, each reading the board's pages (the overview, a division's scorecard, an indicator
page) one after another with a pause of 0.5-1.5 s between them, as a person reads a page
before the next click. Two phases, in the same run:

1. baseline: the readers alone for --baseline-seconds;
2. under import: the readers while bench/import.py's file of --rows rows (its own `bench_`
   division, away from the pages' data) goes through the import service in a second
   process; the phase ends when the import does, or after --seconds (bounded either way).

Prints p50/p95/p99 per page and phase. Target (issue 13): p95 under 300 ms during the import.
Loopback only; request count and time are bounded; it stops by itself.
"""

from __future__ import annotations

import argparse
import importlib
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    Result,
    free_port,
    get,
    percentile,
    setup_django,
    start_gunicorn,
    stop,
)

P95_TARGET_MS = 300
THINK = (0.5, 1.5)
MAX_REQUESTS_PER_CLIENT = 1000


def sessions(count: int) -> list[str]:
    """Session keys of `count` signed-in board members (as after the login form)."""
    from django.conf import settings
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    user, _ = get_user_model().objects.get_or_create(username="bench.ledamot")
    keys = []
    for _ in range(count):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)
    return keys


def page_urls() -> list[tuple[str, str]]:
    pages = importlib.import_module("bench.pages")
    return pages.pages(None, None)


class Readers:
    """--clients threads reading pages with a pause between them, until told to stop."""

    def __init__(self, port: int, keys: list[str], urls: list[tuple[str, str]]) -> None:
        self.port, self.keys, self.urls = port, keys, urls
        self.phase = "baseline"
        self.samples: dict[tuple[str, str], list[float]] = {}
        self.errors = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def client(self, index: int) -> None:
        from django.conf import settings

        cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={self.keys[index]}"}
        rng = random.Random(index)
        for _ in range(MAX_REQUESTS_PER_CLIENT):
            if self.stopping.wait(rng.uniform(*THINK)):
                return
            name, url = rng.choice(self.urls)
            phase = self.phase
            started = time.perf_counter()
            status, _size, _headers = get(self.port, url, cookie)
            elapsed = (time.perf_counter() - started) * 1000
            with self.lock:
                if status != 200:
                    self.errors += 1
                else:
                    self.samples.setdefault((phase, name), []).append(elapsed)

    def run(self, count: int) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.client, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        return threads


def start_import(rows: int) -> subprocess.Popen:
    """A second process that prepares the import file, says "ready", and imports on a line
    from us; it says "done" when it has."""
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--import-only", str(rows)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def import_only(rows: int) -> None:
    import shutil
    import tempfile

    setup_django()
    bench_import = importlib.import_module("bench.import")
    bench_import.purge()
    codes = bench_import.load_bench_scorecard(units=100, indicators=20)
    workdir = Path(tempfile.mkdtemp(prefix="styrkort-load-"))
    try:
        csv_path = workdir / "load.csv"
        bench_import.write_files(rows, codes, csv_path, workdir / "load.tsv")
        print("ready", flush=True)
        sys.stdin.readline()
        seconds, _result = bench_import.time_import(csv_path)
        print(f"done {seconds:.1f}", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        bench_import.purge()


def run(
    clients: int = 20, rows: int = 300_000, seconds: float = 90, baseline_seconds: float = 20
) -> list[Result]:
    from django.db import connection

    urls = page_urls()
    keys = sessions(clients)
    connection.close()
    importer = start_import(rows)
    if importer.stdout.readline().strip() != "ready":
        raise SystemExit("the import process did not get ready")
    port = free_port()
    server = start_gunicorn(port, workers=2)
    readers = Readers(port, keys, urls)
    imported = None
    try:
        for _name, url in urls:  # warm up every worker's caches a little, check the answers
            from django.conf import settings

            cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={keys[0]}"}
            for _ in range(2):
                if get(port, url, cookie)[0] != 200:
                    raise SystemExit(f"{url} did not answer 200 to a signed-in reader")
        threads = readers.run(clients)
        time.sleep(baseline_seconds)
        readers.phase = "import"
        importer.stdin.write("go\n")
        importer.stdin.flush()
        done = threading.Event()

        def wait_import() -> None:
            nonlocal imported
            line = importer.stdout.readline().strip()
            if line.startswith("done"):
                imported = float(line.split()[1])
            done.set()

        threading.Thread(target=wait_import, daemon=True).start()
        done.wait(seconds)
        readers.stopping.set()
        for thread in threads:
            thread.join()
    finally:
        readers.stopping.set()
        stop(server)
        if importer.poll() is None:
            importer.terminate()
        importer.wait(timeout=120)
    if readers.errors:
        raise SystemExit(f"{readers.errors} page requests failed")
    results = []
    names = [name for name, _url in urls]
    everything = {phase: [] for phase in ("baseline", "import")}
    for (phase, _name), values in readers.samples.items():
        everything[phase].extend(values)
    rows_text = f"{rows:,}-row import"
    print(
        "import: "
        + (f"{rows / imported:,.0f} rows/s" if imported else f"not finished in {seconds:g} s"),
        file=sys.stderr,
    )
    for name in [*names, "all pages"]:
        under = (
            everything["import"] if name == "all pages" else readers.samples.get(("import", name))
        )
        alone = (
            everything["baseline"]
            if name == "all pages"
            else readers.samples.get(("baseline", name))
        )
        if not under or not alone:
            continue
        # The name stays the same from run to run: bench/run.py groups the runs by it.
        for share, label, target in (
            (0.5, "p50", False),
            (0.95, "p95", True),
            (0.99, "p99", False),
        ):
            if not target and name != "all pages":
                continue
            value = percentile(under, share)
            results.append(
                Result(
                    name=f"load: {name}, {label} ms during a {rows_text}, {clients} readers",
                    unit="ms",
                    figure=value,
                    baseline=percentile(alone, share),
                    baseline_name=f"{label} without import",
                    target=f"< {P95_TARGET_MS} ms" if target else "(info)",
                    met=value < P95_TARGET_MS if target else True,
                    samples=[float(len(under))],
                )
            )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--seconds", type=float, default=90, help="at most, under import")
    parser.add_argument("--baseline-seconds", type=float, default=20)
    parser.add_argument("--import-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_only:
        import_only(args.import_only)
        return 0
    if not (1 <= args.clients <= 100 and 1 <= args.seconds <= 600):
        raise SystemExit("--clients 1..100, --seconds 1..600")
    setup_django()
    results = run(args.clients, args.rows, args.seconds, args.baseline_seconds)
    for r in results:
        print(f"{r.name:100} {r.figure:8.0f} {r.baseline:8.0f}  {'met' if r.met else 'MISSED'}")
    return 0 if all(r.met for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
