"""Table-driven tests of the pure rules engine (docs/domain.md, "Rules"); no database, no Django."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from domain.rules import (
    ROLLUP_SCORES,
    Direction,
    Status,
    TargetKind,
    TargetSpec,
    Trend,
    combine,
    combine_trends,
    default_band,
    effective_threshold,
    evaluate,
    indicator_status,
    rollup,
    status_after_override,
    trend,
)

D = Decimal
F, P, NF = Status.FULFILLED, Status.PARTLY, Status.NOT_FULFILLED
NO_DATA, NOT_ASSESSED = Status.NO_DATA, Status.NOT_ASSESSED
UP, SAME, DOWN, NO_TREND = Trend.IMPROVED, Trend.UNCHANGED, Trend.WORSENED, Trend.NO_DATA
HIGHER, LOWER, CLOSER = (
    Direction.HIGHER_IS_BETTER,
    Direction.LOWER_IS_BETTER,
    Direction.CLOSER_TO_TARGET,
)

AT_LEAST_95 = TargetSpec(TargetKind.AT_LEAST, D(95))  # default band 9.5 -> partly from 85.5
AT_MOST_7 = TargetSpec(TargetKind.AT_MOST, D(7))  # default band 0.7 -> partly up to 7.7
AT_LEAST_0 = TargetSpec(TargetKind.AT_LEAST, D(0))  # "+/-0 mnkr": band 0
AT_MOST_0 = TargetSpec(TargetKind.AT_MOST, D(0))
ANNUAL_43000 = TargetSpec(TargetKind.AT_LEAST, D(43000), annual=True)  # "43 000 på helår"
INCREASE = TargetSpec(TargetKind.INCREASE)
DECREASE = TargetSpec(TargetKind.DECREASE)
HALVE = TargetSpec(TargetKind.DECREASE, relative_change=D("0.50"), base_year=2020)
PLUS_10_PCT = TargetSpec(TargetKind.INCREASE, relative_change=D("0.10"))
NONE = TargetSpec(TargetKind.NONE)


def test_modules_import_without_django() -> None:
    code = (
        "import sys, domain.rules, domain.targets; "
        "assert 'django' not in sys.modules, sorted(m for m in sys.modules if 'django' in m)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        pytest.param(TargetKind.AT_LEAST, D(95), D("9.5"), id="at_least-10pct"),
        pytest.param(TargetKind.AT_MOST, D(7), D("0.7"), id="at_most-10pct"),
        pytest.param(TargetKind.AT_LEAST, D(-20), D(2), id="negative-target-uses-abs"),
        pytest.param(TargetKind.AT_LEAST, D(0), D(0), id="zero-target-zero-band"),
        pytest.param(TargetKind.INCREASE, None, D(0), id="increase-zero"),
        pytest.param(TargetKind.DECREASE, D(4), D(0), id="decrease-zero-even-with-value"),
        pytest.param(TargetKind.NONE, None, D(0), id="none-zero"),
    ],
)
def test_default_band(kind: TargetKind, value: Decimal | None, expected: Decimal) -> None:
    assert default_band(kind, value) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"kind": TargetKind.AT_LEAST}, id="at_least-without-value"),
        pytest.param({"kind": TargetKind.AT_MOST}, id="at_most-without-value"),
        pytest.param({"kind": TargetKind.INCREASE, "value": D(5)}, id="increase-with-value"),
        pytest.param({"kind": TargetKind.NONE, "value": D(5)}, id="none-with-value"),
        pytest.param(
            {"kind": TargetKind.AT_LEAST, "value": D(5), "band": D(-1)}, id="negative-band"
        ),
        pytest.param(
            {"kind": TargetKind.AT_LEAST, "value": D(5), "relative_change": D("0.1")},
            id="relative-on-threshold",
        ),
        pytest.param(
            {"kind": TargetKind.AT_MOST, "value": D(5), "base_year": 2020},
            id="base-year-on-threshold",
        ),
        pytest.param({"kind": TargetKind.DECREASE, "relative_change": D(0)}, id="relative-zero"),
        pytest.param(
            {"kind": TargetKind.DECREASE, "relative_change": D("1.5")},
            id="decrease-more-than-100pct",
        ),
        pytest.param({"kind": TargetKind.INCREASE, "annual": True}, id="annual-on-increase"),
        pytest.param({"kind": "bogus"}, id="unknown-kind"),
    ],
)
def test_target_spec_rejects_inconsistent_specs(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        TargetSpec(**kwargs)


def test_target_spec_accepts_plain_string_kind() -> None:
    spec = TargetSpec("at_least", D(95))  # type: ignore[arg-type]  # as stored in the DB
    assert spec.kind is TargetKind.AT_LEAST
    assert evaluate(spec, D(95)) == F


@pytest.mark.parametrize(
    ("spec", "reference", "months", "expected"),
    [
        pytest.param(AT_LEAST_95, None, 12, D(95), id="at_least-is-t"),
        pytest.param(AT_LEAST_95, None, 4, D(95), id="not-annual-not-scaled"),
        pytest.param(ANNUAL_43000, None, 4, D(43000) * 4 / 12, id="annual-T1-4-of-12"),
        pytest.param(ANNUAL_43000, None, 8, D(43000) * 8 / 12, id="annual-T2-8-of-12"),
        pytest.param(ANNUAL_43000, None, 12, D(43000), id="annual-year-unscaled"),
        pytest.param(ANNUAL_43000, None, 6, D(21500), id="annual-month-6"),
        pytest.param(HALVE, D(4), 12, D(2), id="decrease-50pct-of-4"),
        pytest.param(PLUS_10_PCT, D(200), 12, D(220), id="increase-10pct-of-200"),
        pytest.param(HALVE, None, 12, None, id="relative-without-reference"),
        pytest.param(INCREASE, D(10), 12, D(10), id="plain-increase-is-reference"),
        pytest.param(DECREASE, None, 12, None, id="plain-decrease-without-reference"),
        pytest.param(NONE, D(10), 12, None, id="none-has-no-threshold"),
    ],
)
def test_effective_threshold(
    spec: TargetSpec, reference: Decimal | None, months: int, expected: Decimal | None
) -> None:
    assert effective_threshold(spec, reference=reference, months_elapsed=months) == expected


@pytest.mark.parametrize("months", [0, 13, -4])
def test_effective_threshold_rejects_impossible_months(months: int) -> None:
    with pytest.raises(ValueError, match="months_elapsed"):
        effective_threshold(ANNUAL_43000, reference=None, months_elapsed=months)


EVALUATE_CASES = [
    # (id, spec, value, reference, months_elapsed, expected)
    ("missing-value", AT_LEAST_95, None, None, 12, NO_DATA),
    ("none-kind-with-value", NONE, D(50), None, 12, NOT_ASSESSED),
    ("none-kind-without-value", NONE, None, None, 12, NOT_ASSESSED),
    # at_least 95, band 9.5
    ("at_least-exactly-t", AT_LEAST_95, D(95), None, 12, F),
    ("at_least-above", AT_LEAST_95, D(100), None, 12, F),
    ("at_least-just-below-t", AT_LEAST_95, D("94.99"), None, 12, P),
    ("at_least-on-band-edge", AT_LEAST_95, D("85.5"), None, 12, P),
    ("at_least-just-past-edge", AT_LEAST_95, D("85.49"), None, 12, NF),
    ("at_least-far-below", AT_LEAST_95, D(10), None, 12, NF),
    # at_most 7, band 0.7
    ("at_most-exactly-t", AT_MOST_7, D(7), None, 12, F),
    ("at_most-below", AT_MOST_7, D(3), None, 12, F),
    ("at_most-just-above-t", AT_MOST_7, D("7.01"), None, 12, P),
    ("at_most-on-band-edge", AT_MOST_7, D("7.7"), None, 12, P),
    ("at_most-just-past-edge", AT_MOST_7, D("7.71"), None, 12, NF),
    # explicit band overrides the default
    ("band-2-on-edge", TargetSpec(TargetKind.AT_LEAST, D(95), band=D(2)), D(93), None, 12, P),
    (
        "band-2-past-edge",
        TargetSpec(TargetKind.AT_LEAST, D(95), band=D(2)),
        D("92.99"),
        None,
        12,
        NF,
    ),
    ("band-0-no-partly", TargetSpec(TargetKind.AT_MOST, D(7), band=D(0)), D("7.01"), None, 12, NF),
    ("band-0-on-t", TargetSpec(TargetKind.AT_MOST, D(7), band=D(0)), D(7), None, 12, F),
    # zero target ("+/-0 mnkr"): band 0
    ("zero-target-at-zero", AT_LEAST_0, D(0), None, 12, F),
    ("zero-target-surplus", AT_LEAST_0, D("0.01"), None, 12, F),
    ("zero-target-deficit", AT_LEAST_0, D("-0.01"), None, 12, NF),
    ("zero-at_most-at-zero", AT_MOST_0, D(0), None, 12, F),
    ("zero-at_most-above", AT_MOST_0, D("0.01"), None, 12, NF),
    # annual 43 000: T1 t=14 333.33 (band 1 433.33), T2 t=28 666.67, year t=43 000
    ("annual-T1-on-pace", ANNUAL_43000, D(14334), None, 4, F),
    ("annual-T1-slightly-behind", ANNUAL_43000, D(14000), None, 4, P),
    ("annual-T1-far-behind", ANNUAL_43000, D(12000), None, 4, NF),
    ("annual-T2-on-pace", ANNUAL_43000, D(28667), None, 8, F),
    ("annual-T2-behind-in-band", ANNUAL_43000, D(26000), None, 8, P),
    ("annual-T2-far-behind", ANNUAL_43000, D(25000), None, 8, NF),
    ("annual-T2-real-outcome", ANNUAL_43000, D(28617), None, 8, P),
    ("annual-year-reached", ANNUAL_43000, D(43000), None, 12, F),
    ("annual-year-on-band-edge", ANNUAL_43000, D(38700), None, 12, P),
    ("annual-year-past-edge", ANNUAL_43000, D(38699), None, 12, NF),
    (
        "not-annual-T1-compared-with-full-t",
        TargetSpec(TargetKind.AT_LEAST, D(43000)),
        D(14334),
        None,
        4,
        NF,
    ),
    (
        "annual-at_most-T1-scaled",
        TargetSpec(TargetKind.AT_MOST, D(1200), annual=True),
        D(400),
        None,
        4,
        F,
    ),
    # plain increase/decrease against the reference, band 0
    ("increase-missing-reference", INCREASE, D(10), None, 12, NO_DATA),
    ("increase-went-up", INCREASE, D(101), D(100), 12, F),
    ("increase-equal-is-partly", INCREASE, D(100), D(100), 12, P),
    ("increase-went-down", INCREASE, D(99), D(100), 12, NF),
    ("decrease-missing-reference", DECREASE, D(10), None, 12, NO_DATA),
    ("decrease-went-down", DECREASE, D("11.4"), D("11.5"), 12, F),
    ("decrease-equal-is-partly", DECREASE, D("11.5"), D("11.5"), 12, P),
    ("decrease-went-up", DECREASE, D("11.6"), D("11.5"), 12, NF),
    # increase/decrease with an explicit band
    ("increase-band-upper-edge", TargetSpec(TargetKind.INCREASE, band=D(2)), D(102), D(100), 12, P),
    (
        "increase-band-past-upper",
        TargetSpec(TargetKind.INCREASE, band=D(2)),
        D("102.01"),
        D(100),
        12,
        F,
    ),
    ("increase-band-lower-edge", TargetSpec(TargetKind.INCREASE, band=D(2)), D(98), D(100), 12, P),
    (
        "increase-band-past-lower",
        TargetSpec(TargetKind.INCREASE, band=D(2)),
        D("97.99"),
        D(100),
        12,
        NF,
    ),
    ("decrease-band-within", TargetSpec(TargetKind.DECREASE, band=D(2)), D(99), D(100), 12, P),
    ("decrease-band-past", TargetSpec(TargetKind.DECREASE, band=D(2)), D(97), D(100), 12, F),
    # relative change: halve 4 -> t 2 at_most, band 0.2
    ("halve-missing-reference", HALVE, D(2), None, 12, NO_DATA),
    ("halve-reached", HALVE, D(2), D(4), 12, F),
    ("halve-beaten", HALVE, D(1), D(4), 12, F),
    ("halve-on-band-edge", HALVE, D("2.2"), D(4), 12, P),
    ("halve-past-edge", HALVE, D("2.21"), D(4), 12, NF),
    ("halve-unchanged-is-not-fulfilled", HALVE, D(4), D(4), 12, NF),
    (
        "halve-explicit-band-0",
        TargetSpec(TargetKind.DECREASE, relative_change=D("0.5"), band=D(0)),
        D("2.01"),
        D(4),
        12,
        NF,
    ),
    # relative increase: +10 % of 200 -> t 220 at_least, band 22
    ("plus10-reached", PLUS_10_PCT, D(220), D(200), 12, F),
    ("plus10-on-band-edge", PLUS_10_PCT, D(198), D(200), 12, P),
    ("plus10-past-edge", PLUS_10_PCT, D("197.99"), D(200), 12, NF),
]


@pytest.mark.parametrize(
    ("spec", "value", "reference", "months", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in EVALUATE_CASES],
)
def test_evaluate(
    spec: TargetSpec,
    value: Decimal | None,
    reference: Decimal | None,
    months: int,
    expected: Status,
) -> None:
    assert evaluate(spec, value, reference=reference, months_elapsed=months) == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param([F, F], F, id="all-fulfilled"),
        pytest.param([NF, NF], NF, id="all-not-fulfilled"),
        pytest.param([F, NF], P, id="fulfilled-and-not"),
        pytest.param([F, P], P, id="fulfilled-and-partly"),
        pytest.param([P], P, id="single-partly"),
        pytest.param([F, NO_DATA], F, id="no-data-ignored"),
        pytest.param([NF, NOT_ASSESSED], NF, id="not-assessed-ignored"),
        pytest.param([F, NO_DATA, NOT_ASSESSED, F], F, id="both-ignored"),
        pytest.param([F, NF, NO_DATA, NOT_ASSESSED], P, id="mixed-with-ignored"),
        pytest.param([NO_DATA, NO_DATA], NO_DATA, id="only-no-data"),
        pytest.param([NO_DATA, NOT_ASSESSED], NO_DATA, id="no-data-beats-not-assessed"),
        pytest.param([NOT_ASSESSED], NOT_ASSESSED, id="only-not-assessed"),
        pytest.param([], NOT_ASSESSED, id="empty"),
        pytest.param(iter([F, F]), F, id="any-iterable"),
    ],
)
def test_combine(statuses: list[Status], expected: Status) -> None:
    assert combine(statuses) == expected


@pytest.mark.parametrize(
    ("statuses", "specific", "expected"),
    [
        pytest.param({"women": F, "men": NF}, True, P, id="specific-km-mixed"),
        pytest.param({"women": F, "men": F}, True, F, id="specific-km-both"),
        pytest.param(
            {"total": NOT_ASSESSED, "women": NF, "men": NF}, True, NF, id="specific-ignores-total"
        ),
        pytest.param({"women": F, "men": NO_DATA}, True, F, id="specific-one-missing"),
        pytest.param({"total": F, "women": NF, "men": NF}, False, F, id="total-decides"),
        pytest.param({"total": NO_DATA, "women": F}, False, NO_DATA, id="total-missing-decides"),
        pytest.param({"women": F, "men": P}, False, P, id="no-total-combines"),
        pytest.param(
            {"age40_women": F, "age40_men": NF, "age50_women": F}, False, P, id="age-breakdowns"
        ),
        pytest.param({}, False, NOT_ASSESSED, id="empty"),
    ],
)
def test_indicator_status(statuses: dict[str, Status], specific: bool, expected: Status) -> None:
    assert indicator_status(statuses, breakdown_specific=specific) == expected


TREND_CASES = [
    # (id, value, previous, direction, band, target, expected)
    ("no-value", None, D(10), HIGHER, D(0), None, NO_TREND),
    ("no-previous", D(10), None, LOWER, D(0), None, NO_TREND),
    ("higher-up", D(11), D(10), HIGHER, D(0), None, UP),
    ("higher-down", D(9), D(10), HIGHER, D(0), None, DOWN),
    ("higher-equal", D(10), D(10), HIGHER, D(0), None, SAME),
    ("higher-band-edge-up", D(11), D(10), HIGHER, D(1), None, SAME),
    ("higher-band-past-up", D("11.01"), D(10), HIGHER, D(1), None, UP),
    ("higher-band-edge-down", D(9), D(10), HIGHER, D(1), None, SAME),
    ("higher-band-past-down", D("8.99"), D(10), HIGHER, D(1), None, DOWN),
    ("lower-down-is-better", D(9), D(10), LOWER, D(0), None, UP),
    ("lower-up-is-worse", D(11), D(10), LOWER, D(0), None, DOWN),
    ("lower-equal", D("11.5"), D("11.5"), LOWER, D(0), None, SAME),
    ("lower-band-edge", D("10.5"), D(11), LOWER, D("0.5"), None, SAME),
    ("lower-band-past", D("10.49"), D(11), LOWER, D("0.5"), None, UP),
    ("closer-no-target", D(95), D(90), CLOSER, D(0), None, NO_TREND),
    ("closer-approaching", D(95), D(90), CLOSER, D(0), D(100), UP),
    ("closer-crossing-but-nearer", D(105), D(90), CLOSER, D(0), D(100), UP),
    ("closer-moving-away", D(110), D(95), CLOSER, D(0), D(100), DOWN),
    ("closer-same-distance-other-side", D(110), D(90), CLOSER, D(0), D(100), SAME),
    ("closer-equal", D(90), D(90), CLOSER, D(0), D(100), SAME),
    ("closer-band-edge", D(92), D(90), CLOSER, D(2), D(100), SAME),
    ("closer-band-past", D("92.01"), D(90), CLOSER, D(2), D(100), UP),
    ("closer-from-above", D(101), D(103), CLOSER, D(0), D(100), UP),
    ("direction-as-plain-string", D(9), D(10), "decrease", D(0), None, UP),
]


@pytest.mark.parametrize(
    ("value", "previous", "direction", "band", "target", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in TREND_CASES],
)
def test_trend(
    value: Decimal | None,
    previous: Decimal | None,
    direction: Direction,
    band: Decimal,
    target: Decimal | None,
    expected: Trend,
) -> None:
    assert trend(value, previous, direction, band=band, target=target) == expected


def test_trend_default_band_is_zero() -> None:
    assert trend(D("10.01"), D(10), HIGHER) == UP


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"direction": HIGHER, "band": D(-1)}, "band", id="negative-band"),
        pytest.param({"direction": "sideways"}, "sideways", id="unknown-direction"),
    ],
)
def test_trend_rejects_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        trend(D(1), D(2), **kwargs)


@pytest.mark.parametrize(
    ("trends", "expected"),
    [
        pytest.param([UP, UP], UP, id="all-improved"),
        pytest.param([DOWN, DOWN], DOWN, id="all-worsened"),
        pytest.param([UP, DOWN], SAME, id="mixed"),
        pytest.param([UP, SAME], SAME, id="improved-and-unchanged"),
        pytest.param([UP, NO_TREND], UP, id="no-data-ignored"),
        pytest.param([DOWN, NO_TREND, DOWN], DOWN, id="no-data-ignored-worsened"),
        pytest.param([NO_TREND, NO_TREND], NO_TREND, id="only-no-data"),
        pytest.param([], NO_TREND, id="empty"),
    ],
)
def test_combine_trends(trends: list[Trend], expected: Trend) -> None:
    assert combine_trends(trends) == expected


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        pytest.param([F, F, F, NF], F, id="exactly-0.75-fulfilled"),
        pytest.param([F, F, F, P, NF], P, id="0.70-partly"),
        pytest.param([F, P, P, NF], P, id="0.50-partly"),
        pytest.param([F, F, NF, NF, NF], P, id="exactly-0.40-partly"),
        pytest.param([P, P, P, P, NF], P, id="exactly-0.40-from-partlys"),
        pytest.param([F, NF, NF], NF, id="0.33-not-fulfilled"),
        pytest.param([P, NF], NF, id="0.25-not-fulfilled"),
        pytest.param([F, F], F, id="all-fulfilled"),
        pytest.param([P, P], P, id="all-partly"),
        pytest.param([NF], NF, id="all-not-fulfilled"),
        pytest.param([F, F, F, NF, NO_DATA, NOT_ASSESSED], F, id="unassessed-ignored"),
        pytest.param([NO_DATA, NOT_ASSESSED], NO_DATA, id="nothing-assessed"),
        pytest.param([], NO_DATA, id="empty"),
    ],
)
def test_rollup(statuses: list[Status], expected: Status) -> None:
    assert rollup(statuses) == expected


def test_rollup_scores_are_exact_and_read_only() -> None:
    assert dict(ROLLUP_SCORES) == {F: Fraction(1), P: Fraction(1, 2), NF: Fraction(0)}
    with pytest.raises(TypeError):
        ROLLUP_SCORES[P] = Fraction(1)  # type: ignore[index]


@pytest.mark.parametrize(
    ("computed", "override", "comment", "expected"),
    [
        pytest.param(F, None, "", F, id="no-override-keeps-computed"),
        pytest.param(NO_DATA, None, None, NO_DATA, id="no-override-no-comment"),
        pytest.param(NF, P, "Mätningen gjordes före åtgärden", P, id="override-with-comment"),
        pytest.param(P, P, "Bekräftat av chef", P, id="override-same-as-computed"),
        pytest.param(NO_DATA, F, "Siffran kom muntligt", F, id="override-no-data"),
    ],
)
def test_status_after_override(
    computed: Status, override: Status | None, comment: str | None, expected: Status
) -> None:
    assert status_after_override(computed, override, comment) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "comment", ["", "   ", "\n\t", None], ids=["empty", "spaces", "ws", "none"]
)
def test_override_without_comment_is_refused(comment: str | None) -> None:
    with pytest.raises(ValueError, match="comment"):
        status_after_override(NF, F, comment)  # type: ignore[arg-type]
