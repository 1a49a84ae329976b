"""What the benches share: Django set-up, gunicorn on loopback, HTTP, medians and spread.

Every bench measures a figure beside a baseline taken in the same run, alternating where it
can, and reports the ratio: the machine is shared, so seconds alone say little.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(settings: str = "config.settings") -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings)
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


@dataclass
class Result:
    """One figure of a bench against its baseline, as `make bench` prints it.

    `ratio` is figure / baseline; the target is met when `check(figure, baseline)` holds.
    """

    name: str
    unit: str
    figure: float
    baseline: float
    baseline_name: str
    target: str
    met: bool
    samples: list[float] = field(default_factory=list)  # the figure's runs, for the spread

    @property
    def ratio(self) -> float:
        return self.figure / self.baseline if self.baseline else float("inf")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float]) -> tuple[float, float]:
    return (min(values), max(values)) if values else (float("nan"), float("nan"))


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95: p95)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int = 1, env: dict | None = None):
    """gunicorn on 127.0.0.1:port with persistent database connections and no throttling."""
    environment = {
        **os.environ,
        "STYRKORT_API_THROTTLE_RATE": "",  # measure the API, not the throttle's refusals
        "STYRKORT_API_EXPORT_THROTTLE_RATE": "",
        "CONN_MAX_AGE": os.environ.get("CONN_MAX_AGE", "600"),
        "ALLOWED_HOSTS": "127.0.0.1",
        "LOG_LEVEL": "WARNING",
        **(env or {}),
    }
    environment.pop("DJANGO_SETTINGS_MODULE", None)  # config.wsgi's own: production settings
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "config.wsgi",
        f"--workers={workers}",
        f"--threads={threads}",
        f"--bind=127.0.0.1:{port}",
        "--log-level=warning",
        "--timeout=120",
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=environment)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz")[0] == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def get(port: int, path: str, headers: dict[str, str] | None = None, *, timeout: float = 60):
    """(status, body length, headers) of one GET over a fresh loopback connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        # As nginx forwards it in production (SECURE_SSL_REDIRECT would answer 301 otherwise).
        connection.request("GET", path, headers={"X-Forwarded-Proto": "https", **(headers or {})})
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body), dict(response.getheaders())
    finally:
        connection.close()
