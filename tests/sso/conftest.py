import pytest

from .provider import running_provider, sso_switched_on


@pytest.fixture(scope="session")
def oidc_provider():
    yield from running_provider()


@pytest.fixture
def oidc(settings, oidc_provider):
    """SSO switched on against the running provider, for one test."""
    yield from sso_switched_on(settings, oidc_provider)
