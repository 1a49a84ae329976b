import logging
import os
import time

from celery import Celery, signals

import config.heartbeats as heartbeats
from config.logs import (
    accepted_request_id,
    bind_request_id,
    current_request_id,
    new_request_id,
    unbind_request_id,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("styrkort")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

HEARTBEAT_TASK = "config.heartbeat"
# By name, as the import queue sends it: its log line names the import it ran.
PROCESS_IMPORT_TASK = "indicators.tasks.process_import"
# The message header that carries the request id from whoever queued a task to its worker.
REQUEST_ID_HEADER = "styrkort_request_id"

logger = logging.getLogger("styrkort.task")


@app.task(name=HEARTBEAT_TASK, ignore_result=True)
def heartbeat() -> None:
    """Sent by beat every minute (settings.CELERY_BEAT_SCHEDULE): that beat sent it is
    recorded as it is published, that a worker ran it by the task-success record."""


# --- logging: Django's LOGGING, in the worker and beat too ----------------------------------


@signals.setup_logging.connect
def _use_django_logging(**kwargs) -> None:
    # Connected, this stops Celery from installing its own text handlers: the worker's and
    # beat's lines are the same JSON as the web's (settings.LOGGING, level from the
    # environment, not from --loglevel).
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


# --- the request id, from the web request to the task's worker ------------------------------


@signals.before_task_publish.connect
def _carry_request_id(sender=None, headers=None, **kwargs) -> None:
    # Whatever queues a task while a request (or a task) is running passes its id on; the
    # import queue needs no code of its own for it.
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)
    if sender == HEARTBEAT_TASK and _in_beat:
        heartbeats.record(heartbeats.BEAT)


_in_beat = False


@signals.beat_init.connect
def _mark_beat(**kwargs) -> None:
    global _in_beat
    _in_beat = True


_running: dict[str, tuple[float, object]] = {}


@signals.task_prerun.connect
def _task_started(task_id=None, task=None, **kwargs) -> None:
    # The queuer's id from the message; in eager mode (no broker) the task runs inside the
    # request and keeps its id; a task beat started gets a fresh one.
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) or current_request_id()
    token = bind_request_id(accepted_request_id(request_id) if request_id else new_request_id())
    _running[task_id] = (time.perf_counter(), token)


@signals.task_postrun.connect
def _task_finished(task_id=None, task=None, args=None, kwargs=None, retval=None, state=None, **_):
    started, token = _running.pop(task_id, (None, None))
    if state == "SUCCESS":
        heartbeats.record_task_success(task.name)
    fields = {
        "event": "task",
        "task": task.name,
        "task_id": task_id,
        "state": state,
        # An import's own outcome (succeeded, failed, previewed) when the task returns it.
        "outcome": retval if isinstance(retval, str) else (state or "").lower(),
        "retries": task.request.retries,
    }
    if task.name == PROCESS_IMPORT_TASK:
        fields["import_id"] = (kwargs or {}).get("import_id") or (args[0] if args else None)
    if started is not None:
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
    if task.name != HEARTBEAT_TASK:
        logger.info("task %s %s", task.name, fields["outcome"], extra={"fields": fields})
    if token is not None:
        unbind_request_id(token)
