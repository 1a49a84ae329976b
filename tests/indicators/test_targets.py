"""Table-driven tests of the Swedish target-text parser; no database, no Django."""

from __future__ import annotations

from decimal import Decimal

import pytest

from domain.rules import Direction, Status, TargetKind, TargetSpec, evaluate
from domain.targets import ParsedTarget, TargetParseError, parse_decimal, parse_target_text

D = Decimal
HIGHER, LOWER, CLOSER = (
    Direction.HIGHER_IS_BETTER,
    Direction.LOWER_IS_BETTER,
    Direction.CLOSER_TO_TARGET,
)
AT_LEAST, AT_MOST = TargetKind.AT_LEAST, TargetKind.AT_MOST
INCREASE, DECREASE, NONE = TargetKind.INCREASE, TargetKind.DECREASE, TargetKind.NONE


# --- parse_decimal -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("92,5", D("92.5"), id="decimal-comma"),
        pytest.param("16.9", D("16.9"), id="decimal-point"),
        pytest.param("29 191", D(29191), id="space-thousands"),
        pytest.param("29\u00a0191", D(29191), id="nbsp-thousands"),
        pytest.param("29\u202f191", D(29191), id="narrow-nbsp-thousands"),
        pytest.param("29\u2009191", D(29191), id="thin-space-thousands"),
        pytest.param("1 234 567,89", D("1234567.89"), id="millions-with-decimals"),
        pytest.param("\u22123,5", D("-3.5"), id="unicode-minus"),
        pytest.param("-3", D(-3), id="ascii-minus"),
        pytest.param("+4", D(4), id="leading-plus"),
        pytest.param("95%", D(95), id="trailing-percent"),
        pytest.param("95 %", D(95), id="spaced-percent"),
        pytest.param("17,2\u00a0%", D("17.2"), id="nbsp-percent"),
        pytest.param("  7 ", D(7), id="surrounding-spaces"),
        pytest.param("0", D(0), id="zero"),
        pytest.param("\u22120", D(0), id="minus-zero-is-zero"),
        pytest.param("100,00", D("100.00"), id="trailing-zeros-kept"),
    ],
)
def test_parse_decimal(text: str, expected: Decimal) -> None:
    result = parse_decimal(text)
    assert result == expected
    assert str(result) == str(expected)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("abc", id="word"),
        pytest.param("%", id="only-percent"),
        pytest.param("1 2", id="bad-grouping"),
        pytest.param("12 3456", id="bad-group-length"),
        pytest.param("1,2,3", id="two-commas"),
        pytest.param("1.000,5", id="dot-thousands"),
        pytest.param("5,", id="dangling-comma"),
        pytest.param(",5", id="no-integer-part"),
        pytest.param("--5", id="double-minus"),
        pytest.param("5-", id="trailing-minus"),
        pytest.param("NaN", id="nan"),
        pytest.param("Infinity", id="infinity"),
        pytest.param("1e5", id="exponent"),
        pytest.param("12 mnkr", id="unit-text"),
    ],
)
def test_parse_decimal_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a number"):
        parse_decimal(text)


def test_parse_decimal_needs_a_string() -> None:
    with pytest.raises(TypeError):
        parse_decimal(5)  # type: ignore[arg-type]


# --- parse_target_text -------------------------------------------------------------------


def _threshold(
    kind: TargetKind, value: str, unit: str | None = None, *, annual: bool = False
) -> dict:
    return {"spec": TargetSpec(kind, D(value), annual=annual), "unit": unit}


def _change(kind: TargetKind, *, base_year: int | None = None, relative: str | None = None) -> dict:
    rel = D(relative) if relative is not None else None
    return {"spec": TargetSpec(kind, base_year=base_year, relative_change=rel)}


def _km(kind: TargetKind, women: str, men: str, unit: str | None = "percent") -> dict:
    return {
        "spec": TargetSpec(NONE),
        "by_breakdown": {"women": D(women), "men": D(men)},
        "breakdown_kind": kind,
        "unit": unit,
    }


_NO_TARGET: dict = {"spec": TargetSpec(NONE)}

PARSE_CASES = [
    # (id, text, direction, expected fields; unspecified fields take ParsedTarget defaults)
    ("pct-100", "100%", HIGHER, _threshold(AT_LEAST, "100", "percent")),
    ("pct-95", "95%", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("pct-spaced", "35 %", HIGHER, _threshold(AT_LEAST, "35", "percent")),
    ("pct-40", "40%", HIGHER, _threshold(AT_LEAST, "40", "percent")),
    ("pct-lower-is-better", "7%", LOWER, _threshold(AT_MOST, "7", "percent")),
    ("pct-closer-is-floor", "95%", CLOSER, _threshold(AT_LEAST, "95", "percent")),
    ("pct-decimal", "92,5 %", HIGHER, _threshold(AT_LEAST, "92.5", "percent")),
    ("geq-sign", "≥ 95 %", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("geq-ascii", ">= 95%", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("geq-beats-direction", "≥95%", LOWER, _threshold(AT_LEAST, "95", "percent")),
    ("minst", "minst 95%", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("minst-capital", "Minst 95 %", LOWER, _threshold(AT_LEAST, "95", "percent")),
    ("leq-sign", "≤ 7%", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("leq-ascii", "<= 7 %", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("hogst", "högst 7%", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("hogst-capital", "Högst 7 %", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("max", "max 7%", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("max-dot", "Max. 7 %", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("less-than", "<7%", HIGHER, _threshold(AT_MOST, "7", "percent")),
    ("oka", "Öka", HIGHER, _change(INCREASE)),
    ("oka-lower-direction-still-increase", "Öka", LOWER, _change(INCREASE)),
    ("oka-upper", "ÖKA", HIGHER, _change(INCREASE)),
    ("oka-full-stop", "Öka.", HIGHER, _change(INCREASE)),
    ("forbattrat-varde", "Förbättrat värde från senaste mätning", HIGHER, _change(INCREASE)),
    ("forbattra", "Förbättra", HIGHER, _change(INCREASE)),
    ("minska", "Minska", LOWER, _change(DECREASE)),
    ("minska-filler", "Minska jämfört med föregående år", LOWER, _change(DECREASE)),
    ("minska-base-2021", "Minska jämfört med 2021", LOWER, _change(DECREASE, base_year=2021)),
    ("oka-base-2019", "Öka jämfört med 2019", HIGHER, _change(INCREASE, base_year=2019)),
    ("minska-fran-2020", "Minska från 2020", LOWER, _change(DECREASE, base_year=2020)),
    (
        "minska-50-base-2020",
        "Minska med 50% jämfört med 2020",
        LOWER,
        _change(DECREASE, base_year=2020, relative="0.50"),
    ),
    (
        "regionniva-minska-50",
        "På regionnivå Minska med 50% jämfört med 2020",
        LOWER,
        _change(DECREASE, base_year=2020, relative="0.50"),
    ),
    (
        "regionniva-colon",
        "På regionnivå: minska med 50 % jämfört med 2020",
        LOWER,
        _change(DECREASE, base_year=2020, relative="0.50"),
    ),
    ("oka-10-pct", "Öka med 10 %", HIGHER, _change(INCREASE, relative="0.10")),
    ("oka-10-procent", "Öka med 10 procent", HIGHER, _change(INCREASE, relative="0.10")),
    ("minska-till", "Minska till 5 %", LOWER, _threshold(AT_MOST, "5", "percent")),
    ("oka-till-minst", "Öka till minst 80 %", HIGHER, _threshold(AT_LEAST, "80", "percent")),
    ("km-spaced", "K: 16 % M: 17,2 %", HIGHER, _km(AT_LEAST, "16", "17.2")),
    ("km-compact", "K:16% M:17,2%", HIGHER, _km(AT_LEAST, "16", "17.2")),
    ("km-lower-is-better", "K:16% M:17,2%", LOWER, _km(AT_MOST, "16", "17.2")),
    ("kvinnor-man", "Kvinnor 16 %, män 17,2 %", HIGHER, _km(AT_LEAST, "16", "17.2")),
    ("kvinnor-och-man", "kvinnor 16 % och män 17,2 %", LOWER, _km(AT_MOST, "16", "17.2")),
    ("km-semicolon", "K 16 %; M 17,2 %", HIGHER, _km(AT_LEAST, "16", "17.2")),
    ("km-men-first", "M: 17,2 % K: 16 %", HIGHER, _km(AT_LEAST, "16", "17.2")),
    ("km-with-comparator", "K: ≤16 % M: ≤17,2 %", HIGHER, _km(AT_MOST, "16", "17.2")),
    ("km-counts", "K: 8 520 M: 4 458", HIGHER, _km(AT_LEAST, "8520", "4458", unit=None)),
    ("plus-minus-zero-mnkr", "+/-0 mnkr", HIGHER, _threshold(AT_LEAST, "0", "msek")),
    ("pm-sign-zero-mnkr", "± 0 mnkr", HIGHER, _threshold(AT_LEAST, "0", "msek")),
    ("zero-mnkr", "0 mnkr", HIGHER, _threshold(AT_LEAST, "0", "msek")),
    ("mkr", "5 mkr", LOWER, _threshold(AT_MOST, "5", "msek")),
    ("annual-pa-helar", "43 000 på helår", HIGHER, _threshold(AT_LEAST, "43000", annual=True)),
    ("annual-per-ar", "43 000 per år", HIGHER, _threshold(AT_LEAST, "43000", annual=True)),
    ("annual-nbsp", "43\u00a0000 på helår", HIGHER, _threshold(AT_LEAST, "43000", annual=True)),
    ("annual-lower", "1 200 per år", LOWER, _threshold(AT_MOST, "1200", annual=True)),
    ("annual-share-not-prorated", "95 % på helår", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("plain-number", "29 191", HIGHER, _threshold(AT_LEAST, "29191")),
    ("plain-number-lower", "29 191", LOWER, _threshold(AT_MOST, "29191")),
    ("plain-st", "1 000 st", HIGHER, _threshold(AT_LEAST, "1000")),
    ("mal-prefix", "Mål: 95 %", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("extra-spaces", "  minst   95  %  ", HIGHER, _threshold(AT_LEAST, "95", "percent")),
    ("none-null", None, HIGHER, _NO_TARGET),
    ("none-empty", "", HIGHER, _NO_TARGET),
    ("none-blank", "  ", HIGHER, _NO_TARGET),
    ("none-foljs-upp", "Följs upp", HIGHER, _NO_TARGET),
    ("none-foljs-upp-fr-om", "följs upp fr om 2023", HIGHER, _NO_TARGET),
    ("none-efter-behov", "Efter behov", CLOSER, _NO_TARGET),
    ("none-dash", "-", HIGHER, _NO_TARGET),
    ("none-en-dash", "\u2013", HIGHER, _NO_TARGET),
]


@pytest.mark.parametrize(
    ("text", "direction", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in PARSE_CASES],
)
def test_parse_target_text(text: str | None, direction: Direction, expected: dict) -> None:
    parsed = parse_target_text(text, direction=direction)
    assert parsed == ParsedTarget(text=text or "", **expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("Bra", "cannot read the target 'Bra'", id="word"),
        pytest.param("mycket", "cannot read the target", id="other-word"),
        pytest.param("95 % eller bättre", "cannot read the target", id="trailing-words"),
        pytest.param("Minska med 50", "change by an amount", id="absolute-change"),
        pytest.param("Öka med 5 procentenheter", "change by an amount", id="percentage-points"),
        pytest.param("Öka med 2 %-enheter", "change by an amount", id="pct-points-short"),
        pytest.param("Minska med 150 %", "100 %", id="decrease-over-100pct"),
        pytest.param("Minska 12", "cannot read the number", id="stray-number-after-verb"),
        pytest.param("Öka jämfört med 2019 och 2020", "cannot read the number", id="two-years"),
        pytest.param("Minska till 5 % jämfört med 2020", "both a level", id="level-and-change"),
        pytest.param("±2 mnkr", "only '\\+/-0'", id="plus-minus-range"),
        pytest.param("K: 16 % X", "per-gender", id="km-trailing-junk"),
        pytest.param("K: 16 % K: 17 %", "women twice", id="km-duplicate"),
        pytest.param("K: ≥16 % M: ≤17 %", "mixes", id="km-mixed-comparators"),
        pytest.param("På regionnivå", "scope but no target", id="prefix-only"),
    ],
)
def test_parse_target_text_rejects(text: str, message: str) -> None:
    with pytest.raises(TargetParseError, match=message):
        parse_target_text(text)


def test_parse_error_is_a_value_error() -> None:
    assert issubclass(TargetParseError, ValueError)


def test_direction_may_be_the_yaml_string() -> None:
    parsed = parse_target_text("7%", direction="decrease")  # type: ignore[arg-type]
    assert parsed.spec == TargetSpec(AT_MOST, D(7))


def test_per_breakdown_target_feeds_evaluate() -> None:
    parsed = parse_target_text("K:16% M:17,2%", direction=LOWER)
    assert parsed.breakdown_specific
    assert parsed.spec_for("women") == TargetSpec(AT_MOST, D(16))
    assert parsed.spec_for("total") == TargetSpec(NONE)
    assert evaluate(parsed.spec_for("women"), D("15.9")) == Status.FULFILLED
    assert evaluate(parsed.spec_for("men"), D("18.5")) == Status.PARTLY
    assert evaluate(parsed.spec_for("total"), D(17)) == Status.NOT_ASSESSED


def test_indicator_wide_target_is_not_breakdown_specific() -> None:
    parsed = parse_target_text("95%")
    assert not parsed.breakdown_specific
    assert parsed.spec_for("women") == parsed.spec


# --- every target text of the Division Nära 2022 T2 scorecard ----------------------------
# Embedded from data/nara_2022_t2/scorecard.yaml (code, target_text, direction, and the
# file's structured target: kind, value, by_breakdown), so the app does not read ../shared.

NARA_2022_T2 = [
    ("besok_filialer", "Öka", "increase", "increase", None, None),
    ("nya_filialer", "Öka", "increase", "increase", None, None),
    ("kommuner_samverkan_levnadsvanor", None, "increase", "none", None, None),
    ("digitalen_triage", "43 000 på helår", "increase", "at_least", 43000, None),
    ("digitalen_kannedom", "43 000", "increase", "none", None, None),
    ("digitala_vardbesok", "40%", "increase", "at_least", 40, None),
    ("kontinuitetsindex", None, "increase", "none", None, None),
    ("fast_lakarkontakt", None, "increase", "none", None, None),
    ("telefon_teleq", "95%", "increase", "at_least", 95, None),
    ("medicinsk_bedomning_3d", "100%", "increase", "at_least", 100, None),
    ("ftv_fardigbehandlade", "70%", "increase", "at_least", 70, None),
    ("vald_nara_relation", "Öka", "increase", "increase", None, None),
    ("levnadsvanor_radgivning", "Öka", "increase", "increase", None, None),
    ("halsosamtal_40_50_60", "35 %", "increase", "at_least", 35, None),
    ("suicidbedomning", "Öka", "increase", "increase", None, None),
    ("medborgardialoger", None, "increase", "none", None, None),
    ("besok_80_akut", "Minska", "decrease", "decrease", None, None),
    ("nettokostnadsandel_primarvard", None, "increase", "none", None, None),
    ("specialistbevis_allmanmedicin", None, "increase", "none", None, None),
    ("sip_deltagit", "80%", "increase", "at_least", 80, None),
    ("patientnamnden_kommunikation", None, "decrease", "none", None, None),
    ("palliativ_behandlingsstrategi", "70%", "increase", "at_least", 70, None),
    ("utskrivningsklara_1dygn", "7%", "decrease", "at_most", 7, None),
    (
        "aterinskrivningar_65",
        "K:16% M:17,2%",
        "decrease",
        "at_most",
        None,
        {"women": 16, "men": "17.2"},
    ),
    ("sip_fast_vardkontakt", "80%", "increase", "at_least", 80, None),
    ("vardforlopp_inforda", None, "increase", "none", None, None),
    ("gapanalyser_vardforlopp", None, "increase", "none", None, None),
    ("vardskador_sluten_somatisk", None, "decrease", "none", None, None),
    (
        "fallskador_aldre",
        "På regionnivå Minska med 50% jämfört med 2020",
        "decrease",
        "decrease",
        None,
        None,
    ),
    ("lakemedelsberattelse_75", None, "increase", "none", None, None),
    ("inhyrda_kostnadsandel_pv", "Minska jämfört med 2021", "decrease", "decrease", None, None),
    ("kompetensforsorjningsplaner", "95%", "increase", "at_least", 95, None),
    ("attraktiv_arbetsgivare_hme", "Öka", "increase", "increase", None, None),
    ("chefer_utbildning_omstallning", "Efter behov", "target", "none", None, None),
    (
        "mau_ledarskap_medarbetarskap",
        "Förbättrat värde från senaste mätning",
        "increase",
        "increase",
        None,
        None,
    ),
    ("sjukfranvaro", "Minska", "decrease", "decrease", None, None),
    ("fhv_insatser", None, "increase", "none", None, None),
    ("hme_totalindex", None, "increase", "none", None, None),
    ("hme_ledarskap_index", None, "increase", "none", None, None),
    ("lonesamrad_efterlevnad", None, "increase", "none", None, None),
    ("chefer_utbildning_arbetsgivarrollen", None, "increase", "none", None, None),
    ("resultat_mot_budget", "+/-0 mnkr", "increase", "at_least", 0, None),
    ("kostnad_per_drg", None, "decrease", "none", None, None),
    ("kostnad_ytterfall", None, "decrease", "none", None, None),
    ("produktivitet_kpp", None, "increase", "none", None, None),
    ("kostnadsandel_oppenvard_kpp", None, "increase", "none", None, None),
]

# Intended differences from the file: the parser reads more than the file records.
NARA_KNOWN_DIFFERENCES = {
    # "43 000" written on a share indicator; the file leaves it uninterpreted (kind none).
    # The parser cannot know the indicator's unit and reads a plain number.
    "digitalen_kannedom": TargetSpec(AT_LEAST, D(43000)),
    # The file records only "decrease"; the parser also keeps the 50 % and the base year.
    "fallskador_aldre": TargetSpec(DECREASE, base_year=2020, relative_change=D("0.5")),
}


def test_nara_table_is_complete() -> None:
    codes = [row[0] for row in NARA_2022_T2]
    assert len(codes) == 46 == len(set(codes))
    assert set(NARA_KNOWN_DIFFERENCES) <= set(codes)


@pytest.mark.parametrize(
    ("text", "direction", "file_kind", "file_value", "file_by_breakdown", "code"),
    [pytest.param(*row[1:], row[0], id=row[0]) for row in NARA_2022_T2],
)
def test_nara_2022_t2_target_texts(
    text: str | None,
    direction: str,
    file_kind: str,
    file_value: int | None,
    file_by_breakdown: dict[str, int | str] | None,
    code: str,
) -> None:
    parsed = parse_target_text(text, direction=Direction(direction))
    if code in NARA_KNOWN_DIFFERENCES:
        assert parsed.spec == NARA_KNOWN_DIFFERENCES[code]
        assert parsed.spec.kind == file_kind or file_kind == "none"
        return
    if file_by_breakdown:
        assert parsed.spec.kind is NONE
        assert parsed.breakdown_kind == file_kind
        assert parsed.by_breakdown == {k: D(str(v)) for k, v in file_by_breakdown.items()}
        return
    assert parsed.spec.kind == file_kind
    assert parsed.by_breakdown == {}
    expected_value = D(file_value) if file_value is not None else None
    assert parsed.spec.value == expected_value
