"""The README's commands work as written: "Running without Docker" (gunicorn, a Celery
worker and beat on PostgreSQL and Redis, plain HTTP on loopback) and the API examples
against `make demo`.

The commands are taken from README.md and the Makefile and run by bash with only the
machine's values swapped in: the database, the Redis database, a free port, and a scratch
folder as the project folder (`.venv` and `manage.py` linked in), so that `var/` of the
checkout is left alone. `make setup` is left out: `make test` has just run it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_URL = "127.0.0.1:8000"


def section(title: str) -> str:
    start = README.index(title)
    end = re.compile(r"^##", re.M).search(README, start + len(title))
    return README[start : end.start() if end else None]


def sh_blocks(text: str) -> list[str]:
    return [
        textwrap.dedent(block)
        for block in re.findall(r"^( *)```sh\n(.*?)^\1```", text, re.S | re.M)
        for block in [block[1]]
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def project(tmp_path) -> Path:
    """A project folder of its own: the checkout's venv and manage.py, a fresh var/."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / ".venv").symlink_to(ROOT / ".venv")
    (folder / "manage.py").symlink_to(ROOT / "manage.py")
    return folder


def base_env(**extra: str) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "LOGNAME")
    return {key: os.environ[key] for key in keep if key in os.environ} | extra


def bash(script: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{script}\nexited {result.returncode}:\n{result.stderr}"
    return result.stdout


class Processes:
    """Long-running commands, each in a process group of its own, stopped at the end."""

    def __init__(self, cwd: Path, env: dict[str, str]):
        self.cwd, self.env, self.running = cwd, env, []

    def start(self, name: str, script: str) -> Path:
        log = self.cwd / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["bash", "-euc", script],
                cwd=self.cwd,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.running.append((name, process))
        return log

    def wait_for_log(self, log: Path, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in log.read_text(errors="replace"):
            for name, process in self.running:
                assert process.poll() is None, f"{name} stopped:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no {text!r} in {log}:\n{log.read_text()}"
            time.sleep(0.3)

    def stop(self) -> None:
        for _name, process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def processes(project):
    running = Processes(project, {})
    yield running
    running.stop()


def get(port: int, path: str, headers: dict | None = None) -> http.client.HTTPResponse:
    """One plain-HTTP request; redirects are not followed (a 301 to https is a failure)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def wait_for_http(port: int, path: str, timeout: float = 60) -> http.client.HTTPResponse:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return get(port, path)
        except OSError:
            assert time.monotonic() < deadline, f"nothing answers on port {port}"
            time.sleep(0.3)


def test_running_without_docker(project, processes, new_database):
    database = urlsplit(new_database("nodocker", create=False))
    port = free_port()
    swaps = {
        "createdb -h 127.0.0.1 styrkort": (
            f"createdb -h {database.hostname} -p {database.port or 5432}"
            + (f" -U {database.username}" if database.username else "")
            + f" {database.path.lstrip('/')}"
        ),
        "postgres://127.0.0.1:5432/styrkort": database.geturl(),
        "redis://127.0.0.1:6379/0": os.environ["CELERY_BROKER_URL"],
        README_URL: f"127.0.0.1:{port}",
    }

    def as_here(block: str) -> str:
        for readme_value, value in swaps.items():
            block = block.replace(readme_value, value)
        return "\n".join(line for line in block.splitlines() if line.strip() != "make setup")

    setup, environment, schema, web, worker, beat = map(
        as_here, sh_blocks(section("### Running without Docker"))
    )
    assert "export STYRKORT_LOOPBACK_HTTP=true" in environment
    assert "gunicorn" in web and "celery -A config worker" in worker and "beat" in beat
    env = base_env()
    bash(setup, project, env)
    bash(f"{environment}\n{schema}", project, env)

    processes.env = env
    web_log = processes.start("web", f"{environment}\nexec {web}")
    worker_log = processes.start("worker", f"{environment}\nexec {worker}")
    beat_log = processes.start("beat", f"{environment}\nexec {beat}")

    try:
        health = wait_for_http(port, "/healthz")
    except AssertionError as error:  # say why: the server's own log
        raise AssertionError(f"{error}\n{web_log.read_text(errors='replace')[-3000:]}") from None
    assert (health.status, json.loads(health.body)) == (200, {"status": "ok"}), web_log
    login = get(port, "/login/")
    assert login.status == 200, "plain HTTP on loopback is not redirected to https"
    assert "secure" not in (login.getheader("Set-Cookie") or "").lower()
    # Static files from gunicorn alone: the project's own and an app's (the admin's).
    plotly = get(port, "/static/vendor/plotly/plotly.css")
    assert plotly.status == 200
    assert plotly.body == (ROOT / "static/vendor/plotly/plotly.css").read_bytes()
    assert get(port, "/static/admin/css/base.css").status == 200
    # The demo data is there and the demo users can sign in through the same server.
    assert get(port, "/oversikt/2022-T2/").status == 302  # to the login page, over http

    processes.wait_for_log(worker_log, "ready.")
    processes.wait_for_log(beat_log, "beat: Starting")
    # The worker takes tasks from the broker: send it one of beat's.
    bash(
        f"{environment}\n.venv/bin/celery -A config call indicators.tasks.sweep_imports",
        project,
        env,
    )
    processes.wait_for_log(worker_log, "indicators.tasks.sweep_imports")
    processes.wait_for_log(worker_log, "succeeded")


def test_loopback_http_refuses_other_hosts(project):
    env = base_env(
        DATABASE_URL="sqlite:///:memory:",
        SECRET_KEY="loopback-test-key-0123456789",
        ALLOWED_HOSTS="127.0.0.1,styrkort.example.se",
        STYRKORT_LOOPBACK_HTTP="true",
    )
    result = subprocess.run(
        [".venv/bin/python", "manage.py", "check"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "STYRKORT_LOOPBACK_HTTP" in result.stderr and "styrkort.example.se" in result.stderr


def makefile_recipe(target: str) -> list[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", text, re.M)
    assert recipe, f"the Makefile has a {target} target"
    return [
        line.strip().replace("$(PY)", ".venv/bin/python") for line in recipe.group(1).splitlines()
    ]


def test_the_api_examples_against_make_demo(project, processes, tmp_path):
    port = free_port()
    # `make demo` as the Makefile runs it, on a database file of its own (naming one makes
    # the settings ask for a key, which the embedded default does without).
    env = base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        SECRET_KEY="demo-test-key-0123456789-0123456789",
    )
    *prepare, serve = makefile_recipe("demo")
    assert serve.endswith(f"runserver {README_URL}")
    bash("\n".join(prepare), project, env)
    processes.env = env
    processes.start("demo", serve.replace(README_URL, f"127.0.0.1:{port}"))
    assert wait_for_http(port, "/healthz").status == 200

    token_command = re.search(r"`export STYRKORT_TOKEN=(\$\(.+?\))`", section("## API"))
    assert token_command, "the API section says how to get a key"
    key = bash(token_command.group(1)[2:-1], project, env).strip()
    assert re.fullmatch(r"[\w-]{40,}", key)

    here = base_env(STYRKORT_TOKEN=key)
    read, *_ = sh_blocks(section("## API"))
    csv = bash(read.replace(README_URL, f"127.0.0.1:{port}"), project, here)
    lines = csv.splitlines()
    assert lines[0] == "indicator,org_unit,period,breakdown,value,numerator,denominator,comment"
    assert len(lines) > 10 and all(",2022-T2," in line for line in lines[1:])

    (upload,) = sh_blocks(section("## Imports"))
    answer = json.loads(bash(upload.replace(README_URL, f"127.0.0.1:{port}"), project, here))
    assert answer["id"] and answer["url"]
    deadline = time.monotonic() + 60
    while True:
        result = get(port, urlsplit(answer["url"]).path, headers={"Authorization": f"Token {key}"})
        state = json.loads(result.body)
        if state["status"] not in {"queued", "running"} or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert state["status"] == "succeeded", state
    assert (state["created"], state["changed"]) == (0, 0), state
