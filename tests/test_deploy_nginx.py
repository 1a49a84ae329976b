"""nginx in front of the app (deploy/nginx.conf): compression and caching of static files.

Static checks of the file the Dockerfile's "static" stage installs; no Docker needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
DOCKERFILE = ROOT / "Dockerfile"
YEAR_IMMUTABLE = "public, max-age=31536000, immutable"


def directives(text: str) -> list[list[str]]:
    """Every simple directive as its words (quotes removed), comments left out."""
    text = re.sub(r"#[^\n]*", "", text)
    found = []
    for statement in re.split(r"[;{}]", text):
        words = re.findall(r'"[^"]*"|\'[^\']*\'|\S+', statement)
        if words:
            found.append([w[1:-1] if w[0] in "\"'" else w for w in words])
    return found


@pytest.fixture(scope="module")
def conf() -> str:
    return NGINX_CONF.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def words(conf) -> dict[str, list[list[str]]]:
    by_name: dict[str, list[list[str]]] = {}
    for directive in directives(conf):
        by_name.setdefault(directive[0], []).append(directive[1:])
    return by_name


def test_the_image_installs_this_file():
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(
        r"^COPY deploy/nginx\.conf /etc/nginx/conf\.d/default\.conf$", dockerfile, re.M
    )


def test_pages_and_static_files_are_compressed(words):
    assert words["gzip"] == [["on"]]
    assert words["gzip_vary"] == [["on"]]
    types = {t for line in words["gzip_types"] for t in line}
    assert {"text/css", "application/javascript", "application/json", "image/svg+xml"} <= types
    # Requests come through the TLS proxy in front (a Via header): compress those too.
    assert words["gzip_proxied"] == [["any"]]
    # The .gz files collectstatic writes beside each static file, ready-made.
    assert words["gzip_static"] == [["on"]]


def _static_cache_map(conf: str) -> dict[str, str]:
    block = re.search(r"^map \$uri \$(\w+) \{$(.*?)^\}", conf, re.S | re.M)
    assert block, "a map from the static file's name to its Cache-Control"
    entries = {}
    for key, value in re.findall(r'^\s*("[^"]*"|\S+)\s+"([^"]*)";', block.group(2), re.M):
        entries[key.strip('"')] = value
    return {"variable": block.group(1), **entries}


@pytest.mark.parametrize(
    ("name", "cache_control"),
    [
        ("/static/css/styrkort.3f2a9b0c1d4e.css", YEAR_IMMUTABLE),
        ("/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.0a1b2c3d4e5f.js", None),
        ("/static/css/styrkort.css", "public, max-age=3600"),
        ("/static/vendor/plotly/plotly-basic-2.35.2.min.js", "public, max-age=3600"),
    ],
)
def test_only_files_with_a_content_hash_are_cached_for_good(conf, name, cache_control):
    cache = _static_cache_map(conf)
    variable = cache.pop("variable")
    default = cache.pop("default")
    assert default == "public, max-age=3600"
    chosen = default
    for pattern, value in cache.items():
        assert pattern.startswith("~"), pattern
        if re.search(pattern[1:], name):
            chosen = value
            break
    assert chosen == (cache_control or YEAR_IMMUTABLE)
    static = re.search(r"location /static/ \{(.*?)^    \}", conf, re.S | re.M).group(1)
    assert f"add_header Cache-Control ${variable} always;" in static
    assert "expires" not in static  # one Cache-Control header, from the map


def test_the_image_collects_static_files_with_a_content_hash_and_gzip():
    """The names the map expects: Django's manifest storage (12 hex digits), with .gz."""
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "STYRKORT_STATIC_MANIFEST=1" in dockerfile
    env = {**os.environ, "STYRKORT_STATIC_MANIFEST": "1", "SECRET_KEY": "x" * 50}
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.STORAGES['staticfiles']['BACKEND'])"
    )
    backend = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert backend.stdout.strip() == "whitenoise.storage.CompressedManifestStaticFilesStorage", (
        backend.stderr
    )
