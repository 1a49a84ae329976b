"""A local Kolada: a real HTTP server answering Kolada's v3 paths from a recording.

tests/data/kolada/recording.json holds the items of Kolada's answers (see the README
there); benchmarks.recorded plays the API's paths and paging over them. `faults` makes one
KPI's requests misbehave as a real source can: slow past the client's timeout, malformed
JSON, a server error, or a KPI gone (404 on its data, empty metadata).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from benchmarks.kolada import KoladaClient
from benchmarks.recorded import RecordedAnswers
from tests.workers import running_worker

ROOT = Path(__file__).resolve().parents[2]
RECORDING = ROOT / "tests" / "data" / "kolada" / "recording.json"
QUEUE = "benchmarks-test"  # the test worker's own queue: it never takes the import tests' tasks


@dataclass
class LocalKolada:
    url: str  # the API's base, like https://api.kolada.se/v3
    answers: RecordedAnswers
    faults: dict[str, str] = field(default_factory=dict)  # KPI id -> slow|malformed|500|gone
    requests: list[str] = field(default_factory=list)
    slow_seconds: float = 1.0

    def client(self, **options) -> KoladaClient:
        options = {"timeout": 0.3, "retries": 1, "backoff": 0.01, **options}
        return KoladaClient(base_url=self.url, **options)


def _handler(kolada: LocalKolada, prefix: str):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            kolada.requests.append(self.path)
            path, _, query = self.path.removeprefix(prefix).partition("?")
            fault = next((f for k, f in kolada.faults.items() if f"/{k}" in path), "")
            if fault == "slow":
                time.sleep(kolada.slow_seconds)
            if fault == "malformed":
                return self._send(200, b'{"values": [{"kpi": "N79173", "municipality": ')
            if fault == "500":
                return self._send(500, b"Internal Server Error")
            if fault == "gone":
                if path.startswith("/kpi/"):
                    return self._send(200, b'{"count": 0, "values": [], "next_page": null}')
                return self._send(404, b"Not Found")
            status, body = kolada.answers.answer(kolada.url, path, query)
            if status != 200:
                return self._send(status, b"Not Found")
            return self._send(200, json.dumps(body).encode())

        def _send(self, status: int, body: bytes) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (the timeout test)

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture
def local_kolada() -> Iterator[LocalKolada]:
    kolada = LocalKolada(url="", answers=RecordedAnswers.from_file(RECORDING))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(kolada, "/v3"))
    server.daemon_threads = True
    kolada.url = f"http://127.0.0.1:{server.server_address[1]}/v3"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield kolada
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def session_kolada() -> Iterator[LocalKolada]:
    """One local Kolada for the session's worker, which reads its URL at start."""
    kolada = LocalKolada(url="", answers=RecordedAnswers.from_file(RECORDING))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(kolada, "/v3"))
    server.daemon_threads = True
    kolada.url = f"http://127.0.0.1:{server.server_address[1]}/v3"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield kolada
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def benchmarks_worker(django_db_setup, django_db_blocker, session_kolada, tmp_path_factory):
    """`celery -A config worker` on the test database, reading only its own queue."""
    env = {
        "STYRKORT_KOLADA_URL": session_kolada.url,
        "STYRKORT_KOLADA_SYNC": "1",
        "STYRKORT_KOLADA_TIMEOUT_SECONDS": "2",
    }
    log_dir = tmp_path_factory.mktemp("benchmarks-worker")
    with running_worker(django_db_blocker, log_dir, env=env, queue=QUEUE, pool="solo") as worker:
        yield worker
