"""gunicorn's settings for Styrkort; gunicorn reads this file by itself when it starts in the
project's folder (the image's /app), so the command line needs nothing for it.

- Metrics: each worker process counts its own requests. prometheus-client's multiprocess
  mode has them write to PROMETHEUS_MULTIPROC_DIR, and a scrape adds the files up
  (config/metrics.py). The directory must start empty: an operator's is emptied here, and
  without one each start gets a fresh temporary directory.
- Logs: Django writes one JSON line per request (config/request_log.py). gunicorn's own
  access line would repeat it with the query string, which may carry personal data, so it
  is not written; gunicorn's other lines use the same JSON format.
"""

import os
import shutil
import tempfile

from gunicorn.glogging import Logger

_configured_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if not _configured_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="styrkort-prometheus-")


def on_starting(server):
    if _configured_dir:
        shutil.rmtree(_configured_dir, ignore_errors=True)
        os.makedirs(_configured_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


class StyrkortLogger(Logger):
    def setup(self, cfg):
        super().setup(cfg)
        if os.environ.get("STYRKORT_LOG_FORMAT", "json") == "json":
            from config.logs import JsonFormatter, RequestIdFilter

            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())
                handler.addFilter(RequestIdFilter())

    def access(self, resp, req, environ, request_time):
        return  # Django's request line replaces it (see above)


logger_class = StyrkortLogger
