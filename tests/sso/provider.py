"""A real OpenID provider for the tests: oidc-provider-mock, run as its own process.

Started on a free loopback port, with the nonce required as a strict provider would. The
test says who signs in and with which groups by PUTting the claims of a subject
(`PUT /users/<sub>`); its login page then signs in whoever's subject is typed into it.
A missing package or a provider that does not come up fails the test, never skips it.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests

CLIENT_ID = "styrkort"
CLIENT_SECRET = "test-only-client-secret"
GROUP_MAP = (
    "styrkort-admin=administrator; styrkort-chef-{org_unit}=division_manager; "
    "styrkort-rapportor-{org_unit}=reporter; styrkort-ledamot=board_member; "
    "styrkort-analytiker=analyst"
)


@dataclass
class Provider:
    url: str
    process: subprocess.Popen

    def set_user(self, sub: str, **claims) -> None:
        response = requests.put(f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=10)
        assert response.status_code == 204, response.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_provider() -> Provider:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            pytest.fail(f"the OIDC provider exited ({process.returncode}): {process.stdout.read()}")
        try:
            if requests.get(f"{url}/.well-known/openid-configuration", timeout=5).ok:
                return Provider(url=url, process=process)
        except (requests.ConnectionError, requests.Timeout):
            pass  # not listening yet, or slow to answer first on a busy machine
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the OIDC provider did not answer on {url}: {process.stdout.read()}")
        time.sleep(0.1)


def stop_provider(provider: Provider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait()


def configure(settings, provider: Provider) -> None:
    """Point the app (pytest-django's `settings`) at the provider, as the env would."""
    from django.utils.csp import CSP

    from sso.provider import forget_discovery

    forget_discovery()
    settings.STYRKORT_OIDC_ISSUER = provider.url
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.STYRKORT_OIDC_GROUP_MAP = GROUP_MAP
    settings.SECURE_CSP = {**settings.SECURE_CSP, "form-action": [CSP.SELF, provider.url]}


def running_provider():
    """The body of a session fixture: one provider process, stopped at the end."""
    provider = start_provider()
    yield provider
    stop_provider(provider)


def sso_switched_on(settings, provider: Provider):
    """The body of a per-test fixture: SSO on against `provider`, off again after."""
    from sso.provider import forget_discovery

    configure(settings, provider)
    yield provider
    forget_discovery()
