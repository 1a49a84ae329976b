"""Stored roll-ups: what each org unit's children add up to (domain.rollup), per key.

Recompute calls refresh_indicator for each indicator whose values changed, before it
assesses it, so that an area or division without its own value is judged on its children's.
The whole tree of an indicator is recomputed at once: units with children are few (areas,
divisions, the region), and a full pass cannot drift the way an incremental one could.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction

from divisions.models import OrgUnit
from domain import rollup
from domain.periods import Period

from . import bulk
from .models import Aggregate, Measurement, Unit


class Tree:
    """The organisation as roll-ups need it, with each unit's validity, read once."""

    def __init__(self) -> None:
        self.units = list(
            OrgUnit.objects.values_list("pk", "code", "path", "parent_id", "valid_from", "valid_to")
        )
        self.code_of = {pk: code for pk, code, *_ in self.units}
        self.pk_of = {code: pk for pk, code, *_ in self.units}
        self.path_of = {pk: path for pk, _, path, *_ in self.units}
        self._children: dict[str, dict[str, list[str]]] = {}

    def children(self, period: str) -> dict[str, list[str]]:
        """Unit code -> the codes of its children that existed during the period."""
        if period not in self._children:
            first, last = Period.parse(period).dates()
            kids: dict[str, list[str]] = defaultdict(list)
            for _pk, code, _path, parent_id, valid_from, valid_to in sorted(
                self.units, key=lambda u: u[1]
            ):
                if parent_id is None:
                    continue
                if (valid_from and valid_from > last) or (valid_to and valid_to < first):
                    continue
                kids[self.code_of[parent_id]].append(code)
            self._children[period] = kids
        return self._children[period]

    def with_ancestors(self, codes: Iterable[str]) -> set[str]:
        """The units and every unit above them."""
        found: set[str] = set()
        for code in codes:
            if code not in found:
                found.update(OrgUnit.codes_in(self.path_of[self.pk_of[code]]))
        return found

    def children_among(self, period: str, codes: set[str]) -> dict[str, list[str]]:
        """children(period) cut down to `codes`: the parts of the tree a roll-up reads."""
        return {
            parent: [kid for kid in kids if kid in codes]
            for parent, kids in self.children(period).items()
            if parent in codes
        }

    @property
    def roots(self) -> list[str]:
        return [code for _, code, _, parent_id, *_ in self.units if parent_id is None]

    def ancestors(self, unit_id: int) -> list[int]:
        """The unit's ancestors' ids, nearest first."""
        codes = OrgUnit.codes_in(self.path_of[unit_id])[:-1]
        return [self.pk_of[c] for c in reversed(codes)]


# unit id -> period -> breakdown -> the value an assessment reads: the unit's own, else
# what its children add up to.
Values = dict[int, dict[str, dict[str, Decimal]]]


def refresh_indicator(
    indicator_id: int,
    how: str,
    unit: str,
    *,
    now: datetime,
    tree: Tree,
    changed: Collection[str] | None = None,
    is_closed: Callable[[str, str], bool],
) -> Values | None:
    """Recompute and store the roll-ups of one indicator (`how`: its aggregation, `unit`:
    its unit).

    `changed`: the periods whose values changed; only their roll-ups are recomputed (an
    edited value or a month's import need not read an indicator's whole history). None:
    every period. Roll-ups of a unit and period under a close in force (`is_closed`, from
    scorecard.closing.closed_lookup) are left as they were.

    Returns, when every period was recomputed, the indicator's values as the tables now
    hold them (own values over roll-ups), so that the assessments that follow need not read
    the whole indicator back. None when only some periods were, or the indicator does not
    add up.
    """
    if how == rollup.Aggregation.NONE:
        return None
    only = _changed_periods(indicator_id, changed)
    rows = []
    by_key = _figures(indicator_id, tree, only)
    if only is None:
        reporters = {code for figures in by_key.values() for code in figures}
    else:
        reporters = _reporters(indicator_id, tree)
    # A branch where no unit reports the indicator adds nothing and expects no one: the
    # roll-up walks only the reporters (every unit with a value among them) and those above
    # them: a division's indicator reads its 50 units, not the region's 500.
    relevant = tree.with_ancestors(reporters)
    roots = [root for root in tree.roots if root in relevant]
    pruned: dict[str, dict[str, list[str]]] = {}
    for (period, breakdown), figures in by_key.items():
        if not rollup.adds_up(breakdown):
            continue
        children = pruned.get(period)
        if children is None:
            children = pruned[period] = tree.children_among(period, relevant)
        for root in roots:
            results = rollup.roll_up(
                children,
                root,
                figures,
                rollup.Aggregation(how),
                percent=unit == Unit.PERCENT,
                reporters=reporters,
            )
            for code, result in results.items():
                pk = tree.pk_of[code]
                if is_closed(tree.path_of[pk], period):
                    continue
                rows.append(
                    (
                        indicator_id,
                        pk,
                        period,
                        breakdown,
                        result.figure.value,
                        result.figure.numerator,
                        result.figure.denominator,
                        len(result.covered),
                        len(result.expected),
                        list(result.missing),
                    )
                )
    with transaction.atomic():
        old = Aggregate.objects.filter(indicator_id=indicator_id)
        if only is not None:
            old = old.filter(period__in=only)
        keep = [
            a.pk
            for a in old.only("pk", "org_unit_id", "period")
            if is_closed(tree.path_of.get(a.org_unit_id, "/"), a.period)
        ]
        old.exclude(pk__in=keep).delete()
        kept = list(
            Aggregate.objects.filter(pk__in=keep).values_list(
                "org_unit_id", "period", "breakdown", "value"
            )
        )
        if kept:
            kept_keys = {(unit_id, period, breakdown) for unit_id, period, breakdown, _ in kept}
            rows = [r for r in rows if (r[1], r[2], r[3]) not in kept_keys]
        bulk.insert_aggregates(rows, now=now)
    if only is not None:
        return None
    values: Values = defaultdict(lambda: defaultdict(dict))
    for _indicator_id, unit_id, period, breakdown, value, *_rest in rows:
        # As the table gives it back: the database has no negative zero (-0E-6 reads 0).
        values[unit_id][period][breakdown] = value.copy_abs() if value.is_zero() else value
    for unit_id, period, breakdown, value in kept:
        values[unit_id][period][breakdown] = _decimal(value)
    for (period, breakdown), figures in by_key.items():  # own values last: they win
        for code, figure in figures.items():
            values[tree.pk_of[code]][period][breakdown] = figure.value
    return values


def _changed_periods(indicator_id: int, changed: Collection[str] | None) -> list[str] | None:
    """The periods to recompute, or None for all of them.

    All of them when a unit reports only in the changed periods: it may report the
    indicator for the first time, and then it is expected (or missing) in every period.
    """
    if not changed:
        return None
    changed = sorted(changed)
    marks = ", ".join(["%s"] * len(changed))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM indicators_measurement WHERE indicator_id = %s GROUP BY org_unit_id"
            f" HAVING SUM(CASE WHEN period IN ({marks}) THEN 0 ELSE 1 END) = 0 LIMIT 1",
            [indicator_id, *changed],
        )
        return None if cursor.fetchone() else changed


def _reporters(indicator_id: int, tree: Tree) -> set[str]:
    """The codes of the units that report the indicator in any period."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT org_unit_id FROM indicators_measurement WHERE indicator_id = %s",
            [indicator_id],
        )
        return {tree.code_of[unit_id] for (unit_id,) in cursor.fetchall()}


def _figures(
    indicator_id: int, tree: Tree, periods: list[str] | None = None
) -> dict[tuple[str, str], dict[str, rollup.Figure]]:
    """(period, breakdown) -> unit code -> the value it reported, for one indicator (in
    `periods`, or all)."""
    rows = Measurement.objects.filter(indicator_id=indicator_id)
    if periods is not None:
        rows = rows.filter(period__in=periods)
    query = rows.values_list(
        "org_unit_id", "period", "breakdown", "value", "numerator", "denominator"
    ).query
    sql, params = query.sql_with_params()
    found: dict[tuple[str, str], dict[str, rollup.Figure]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            for unit_id, period, breakdown, value, numerator, denominator in rows:
                found[(period, breakdown)][tree.code_of[unit_id]] = rollup.Figure(
                    _decimal(value), _decimal(numerator), _decimal(denominator)
                )
    return found


def _decimal(number) -> Decimal | None:
    if number is None or isinstance(number, Decimal):
        return number
    return Decimal(str(number))  # SQLite returns floats and ints
