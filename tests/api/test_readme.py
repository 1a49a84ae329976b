"""The README's API examples work as written (against a live server instead of make demo)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from accounts.services import create_token

README = Path(__file__).resolve().parents[2] / "README.md"
DEMO_URL = "http://127.0.0.1:8000"


def api_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## API") :]


def example(language: str) -> str:
    match = re.search(rf"```{language}\n(.*?)```", api_section(), re.S)
    assert match, f"the API section has a {language} example"
    return match.group(1)


@pytest.fixture
def key(cast):
    return create_token(user=cast["analyst"], name="README")[1]


def test_the_pandas_example(live_server, key, monkeypatch):
    monkeypatch.setenv("STYRKORT_TOKEN", key)
    code = example("python").replace(DEMO_URL, live_server.url)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    frame = namespace["measurements"]
    assert list(frame.columns) == [
        "indicator",
        "org_unit",
        "period",
        "breakdown",
        "value",
        "numerator",
        "denominator",
        "comment",
    ]
    assert len(frame) > 50 and "avp_pajala" in set(frame["org_unit"])


def test_the_curl_example(live_server, key):
    command = example("sh").replace(DEMO_URL, live_server.url)
    result = subprocess.run(
        ["bash", "-c", command],
        env={"STYRKORT_TOKEN": key, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "indicator,org_unit,period,breakdown,value,numerator,denominator,comment"
    assert len(lines) > 10 and all(",2022-T2," in line for line in lines[1:])
