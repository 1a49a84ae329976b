"""Settings for the test suite: production settings with two differences.

The test client and the live server for browser tests speak plain HTTP on 127.0.0.1, so
Django's own HTTP->HTTPS redirect (on by default in production) is off here. Everything
else, including DEBUG off, secure cookies and the Content-Security-Policy, stays as in
production so that the tests see what users see. Passwords are hashed with MD5 (below).
"""

import os
from urllib.parse import urlsplit, urlunsplit

# Under `pytest -n` (make test runs two processes) each test process has its own database
# (pytest-django adds the suffix) and, here, its own Redis database: a worker started by one
# process must never take the other's messages. Subprocesses (the Celery worker, gunicorn)
# inherit the adjusted URL, and the marker keeps them from shifting it a second time.
_process = os.environ.get("PYTEST_XDIST_WORKER", "")
_broker = os.environ.get("CELERY_BROKER_URL", "")
if _process.startswith("gw") and _broker and os.environ.get("STYRKORT_TEST_BROKER") != _process:
    _parts = urlsplit(_broker)
    _index = (int(_parts.path.strip("/") or 0) + int(_process[2:])) % 16
    os.environ["CELERY_BROKER_URL"] = urlunsplit(_parts._replace(path=f"/{_index}"))
    os.environ["STYRKORT_TEST_BROKER"] = _process

from .settings import *  # noqa: E402, F403

SECURE_SSL_REDIRECT = False

# Hashing a password for real (PBKDF2, over a million rounds) costs about a second on a
# busy CI machine; tests that log in or load the demo users need a hash, not a strong one.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
