"""The group mapping: what a directory group gives, and what a malformed rule says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from sso.mapping import Grant, parse_group_map

ROOT = Path(__file__).resolve().parents[2]

MAP = """
# comments and blank lines are fine
styrkort-admin=administrator
styrkort-chef-{org_unit}=division_manager; styrkort-rapportor-{org_unit}=reporter
CN=Styrkort ledamöter,OU=Grupper,DC=region,DC=se=board_member
Nara-ledning=division_manager@div_nara
"""


def test_groups_give_roles_scoped_by_placeholder_or_by_the_rule():
    group_map = parse_group_map(MAP)
    assert group_map.grants(
        [
            "styrkort-admin",
            "styrkort-chef-div_nara",
            "styrkort-rapportor-vo_akut",
            "CN=Styrkort ledamöter,OU=Grupper,DC=region,DC=se",
            "Nara-ledning",
        ]
    ) == {
        Grant("administrator"),
        Grant("division_manager", "div_nara"),
        Grant("reporter", "vo_akut"),
        Grant("board_member"),
    }


def test_unknown_groups_are_ignored():
    group_map = parse_group_map(MAP)
    assert group_map.grants(["Alla anställda", "styrkort-chef-", "styrkort-chef-a/b", 42]) == set()
    assert parse_group_map("").grants(["styrkort-admin"]) == set()


@pytest.mark.parametrize(
    ("rule", "why"),
    [
        ("styrkort-admin", "no '=' between group and role"),
        ("styrkort-admin=superuser", "unknown role 'superuser'"),
        ("=analyst", "the group is empty"),
        ("styrkort-chef=division_manager", "division_manager needs an org unit"),
        ("styrkort-{org_unit}-{org_unit}=reporter", "may appear once"),
        ("styrkort-{unit}=reporter", "the only placeholder is {org_unit}"),
        ("styrkort-chef-{org_unit}=division_manager@div_nara", "takes its unit from the group"),
        ("styrkort-chef=division_manager@", "'@' without an org unit code"),
        ("styrkort-chef=division_manager@div nara", "is not an org unit code"),
    ],
)
def test_a_malformed_rule_is_refused_saying_which_and_why(rule, why):
    with pytest.raises(ImproperlyConfigured) as refused:
        parse_group_map(f"styrkort-admin=administrator; {rule}")
    message = str(refused.value)
    assert "STYRKORT_OIDC_GROUP_MAP, rule 2" in message
    assert why in message


def test_a_malformed_mapping_stops_the_app_at_startup():
    env = {**os.environ, "STYRKORT_OIDC_GROUP_MAP": "styrkort-chef=division_manager"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: STYRKORT_OIDC_GROUP_MAP, rule 1" in result.stderr
    assert "division_manager needs an org unit" in result.stderr


def test_sso_switched_on_without_client_or_mapping_is_refused(settings):
    from sso.apps import validate_settings

    validate_settings(settings)  # off: nothing needed
    settings.STYRKORT_OIDC_ISSUER = "https://login.region.example"
    settings.OIDC_RP_CLIENT_ID = "styrkort"
    settings.OIDC_RP_CLIENT_SECRET = ""
    settings.STYRKORT_OIDC_GROUP_MAP = ""
    with pytest.raises(ImproperlyConfigured) as refused:
        validate_settings(settings)
    assert "STYRKORT_OIDC_CLIENT_SECRET, STYRKORT_OIDC_GROUP_MAP are empty" in str(refused.value)
    settings.OIDC_RP_CLIENT_SECRET = "s"
    settings.STYRKORT_OIDC_GROUP_MAP = "styrkort-ledamot=board_member"
    validate_settings(settings)
