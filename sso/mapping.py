"""The mapping from the directory's groups to Styrkort roles, read from the environment.

One rule per line or `;` (commas are left alone: AD group names are LDAP DNs full of
them). Each rule is `GROUP=ROLE` or `GROUP=ROLE@ORG_UNIT_CODE`; the last `=` splits, so a
DN such as `CN=Chefer,OU=Styrkort` works as a group. A group may hold `{org_unit}`,
which matches an org unit code and scopes the role to that unit:

    styrkort-admin=administrator
    styrkort-chef-{org_unit}=division_manager
    styrkort-rapportor-{org_unit}=reporter
    styrkort-ledamot=board_member
    Nara-ledning=division_manager@div_nara

The rules are checked when Django starts (sso.apps), so a typo stops the app with a
message naming the rule instead of silently granting nothing (or too much).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured

PLACEHOLDER = "{org_unit}"
# Org unit codes are slugs (divisions.models.OrgUnit.code).
CODE = r"[-a-zA-Z0-9_]+"
# Kept here rather than read from divisions.models.Role, so that the mapping can be parsed
# before the app registry is ready; sso.apps checks that the two agree.
ROLES = ("administrator", "division_manager", "reporter", "board_member", "analyst")
SCOPED_ROLES = ("division_manager", "reporter")


@dataclass(frozen=True)
class Grant:
    """A role a group gives, and the code of the org unit it is scoped to ("" = region)."""

    role: str
    org_unit_code: str = ""


@dataclass(frozen=True)
class Rule:
    group: str
    role: str
    org_unit_code: str = ""

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if PLACEHOLDER not in self.group:
            return None
        before, after = self.group.split(PLACEHOLDER)
        return re.compile(f"{re.escape(before)}(?P<code>{CODE}){re.escape(after)}")

    def grant_for(self, group: str) -> Grant | None:
        pattern = self.pattern
        if pattern is None:
            return Grant(self.role, self.org_unit_code) if group == self.group else None
        match = pattern.fullmatch(group)
        return Grant(self.role, match["code"]) if match else None


@dataclass(frozen=True)
class GroupMap:
    rules: tuple[Rule, ...] = ()

    def grants(self, groups: Iterable[str]) -> set[Grant]:
        """What the groups give; groups that no rule names are ignored."""
        return {
            grant
            for group in groups
            if isinstance(group, str)
            for rule in self.rules
            if (grant := rule.grant_for(group)) is not None
        }


def parse_group_map(text: str) -> GroupMap:
    """The rules in `text`, or ImproperlyConfigured saying which rule is wrong and why."""
    rules = []
    for number, raw in enumerate(re.split(r"[;\n]", text or ""), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        rules.append(_parse_rule(line, number))
    return GroupMap(tuple(rules))


def _refuse(line: str, number: int, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"STYRKORT_OIDC_GROUP_MAP, rule {number} ({line!r}): {why}. "
        f"Write GROUP=ROLE or GROUP=ROLE@ORG_UNIT_CODE, one rule per line or ';'; "
        f"roles: {', '.join(ROLES)}."
    )


def _parse_rule(line: str, number: int) -> Rule:
    if "=" not in line:
        raise _refuse(line, number, "no '=' between group and role")
    group, target = (part.strip() for part in line.rsplit("=", 1))
    role, _, code = (part.strip() for part in target.partition("@"))
    if not group:
        raise _refuse(line, number, "the group is empty")
    if role not in ROLES:
        raise _refuse(line, number, f"unknown role {role!r}")
    placeholders = group.count(PLACEHOLDER)
    if placeholders > 1:
        raise _refuse(line, number, f"{PLACEHOLDER} may appear once in a group")
    if "{" in group.replace(PLACEHOLDER, "") or "}" in group.replace(PLACEHOLDER, ""):
        raise _refuse(line, number, f"the only placeholder is {PLACEHOLDER}")
    if placeholders and code:
        raise _refuse(line, number, f"a group with {PLACEHOLDER} takes its unit from the group")
    if "@" in target and not code:
        raise _refuse(line, number, "'@' without an org unit code")
    if code and not re.fullmatch(CODE, code):
        raise _refuse(line, number, f"{code!r} is not an org unit code")
    if role in SCOPED_ROLES and not (placeholders or code):
        raise _refuse(line, number, f"{role} needs an org unit: @ORG_UNIT_CODE or {PLACEHOLDER}")
    return Rule(group=group, role=role, org_unit_code=code)
