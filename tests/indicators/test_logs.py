"""Logs: one JSON line per request and per task, and one request id from an upload's line
to the line of the worker that ran the import."""

from __future__ import annotations

import io
import json
import logging
import re
import time
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from config.logs import JsonFormatter, RequestIdFilter
from tests.indicators.conftest import csv_file, wait_for

ROWS = "telefon_teleq,div_nara,1998-01,total,90,,,\n"


class Lines:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def all(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def with_request_id(self, request_id: str) -> list[dict]:
        return [line for line in self.all() if line.get("request_id") == request_id]


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """What this process logs, formatted as production formats it."""
    lines = Lines()
    handler = logging.StreamHandler(lines.stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lines
    root.removeHandler(handler)
    root.setLevel(level)


def worker_lines(worker, request_id: str, timeout: float = 15.0) -> list[dict]:
    """The worker's JSON lines with this request id, once its task line is written."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for text in worker.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if text.startswith("{"):
                line = json.loads(text)
                if line.get("request_id") == request_id:
                    found.append(line)
        if any(line.get("event") == "task" for line in found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_one_request_id_follows_an_upload_to_the_worker(cast, worker, log_lines, tmp_path):
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with csv_file(tmp_path, ROWS).open("rb") as handle:
        sent = api.post("/api/v1/imports/", {"file": handle}, format="multipart")
    assert sent.status_code == 202, sent.content
    request_id = sent["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # made here: the client sent none
    record = wait_for(sent.json()["id"])

    (upload,) = [line for line in log_lines.with_request_id(request_id) if "event" in line]
    assert upload["event"] == "request"
    assert upload["method"] == "POST" and upload["path"] == "/api/v1/imports/"
    assert upload["status"] == 202 and upload["view"] == "import-list"
    assert upload["user_id"] == cast["manager"].pk
    assert upload["duration_ms"] > 0

    in_worker = worker_lines(worker, request_id)
    (task,) = [line for line in in_worker if line.get("event") == "task"]
    assert task["task"] == "indicators.tasks.process_import"
    assert task["import_id"] == record.pk
    assert task["outcome"] == "succeeded" and task["duration_ms"] > 0
    # Celery's own lines about the task carry the id too, not only ours.
    assert any(line["logger"].startswith("celery") for line in in_worker)


def test_a_sane_request_id_is_kept_and_any_other_replaced(client, db):
    kept = client.get("/healthz", headers={"X-Request-ID": "proxy-1234.abc:7"})
    assert kept["X-Request-ID"] == "proxy-1234.abc:7"
    for bad in ("two words", "x" * 101, 'a"}{', "-starts-with-a-dash", ""):
        answer = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", answer["X-Request-ID"]), bad


def test_the_request_line_names_no_person_and_drops_the_query(client, django_user_model, log_lines):
    user = django_user_model.objects.create_user(username="anna.andersson", password="x" * 12)
    client.force_login(user)
    response = client.get("/metrics-not-here/?personnummer=19121212-1212&q=anna")
    assert response.status_code == 404
    text = log_lines.stream.getvalue()
    assert "1212" not in text and "anna" not in text
    (line,) = [line for line in log_lines.all() if line.get("event") == "request"]
    assert line["path"] == "/metrics-not-here/" and line["user_id"] == user.pk
    assert line["status"] == 404 and line["view"] == "unresolved"
    # Django's own line about the 404, written after the middleware, is the request's too.
    (django_line,) = [line for line in log_lines.all() if line["logger"] == "django.request"]
    assert django_line["request_id"] == response["X-Request-ID"] == line["request_id"]
    # And once the response is sent, later lines are no longer the request's.
    logging.getLogger("styrkort").warning("after")
    assert "request_id" not in log_lines.all()[-1]


def test_a_task_in_the_demo_runs_under_the_request_that_queued_it(
    cast, eager_celery, log_lines, tmp_path
):
    api = APIClient()
    api.force_authenticate(cast["manager"])
    with csv_file(tmp_path, ROWS).open("rb") as handle:
        sent = api.post(
            "/api/v1/imports/", {"file": handle}, format="multipart",
            headers={"X-Request-ID": "demo-upload-1"},
        )  # fmt: skip
    assert sent.status_code == 202, sent.content
    events = {line.get("event"): line for line in log_lines.with_request_id("demo-upload-1")}
    assert events["task"]["import_id"] == sent.json()["id"]
    assert events["task"]["outcome"] == "succeeded"
    assert events["request"]["status"] == 202


def test_beat_records_its_heartbeat_when_it_sends_the_heartbeat_task(monkeypatch, db):
    import config.celery as celery_module
    from config import heartbeats

    monkeypatch.setattr(celery_module, "_in_beat", True)
    before = heartbeats.read_all().get(heartbeats.BEAT, 0)
    celery_module._carry_request_id(sender=celery_module.HEARTBEAT_TASK, headers={})
    assert heartbeats.read_all()[heartbeats.BEAT] > before
