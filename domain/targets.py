"""Reading the Swedish target text of a scorecard ("Mål") into a TargetSpec.

Targets are written by hand in Word/Excel: "100%", "≥ 95 %", "Öka", "Minska med 50% jämfört
med 2020", "K: 16 % M: 17,2 %", "+/-0 mnkr", "43 000 på helår", "Följs upp". The parser is
strict about numbers it cannot place (a misread target would colour a row wrongly) and
tolerant of case, spacing and filler words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from domain.rules import Direction, TargetKind, TargetSpec

__all__ = [
    "ParsedTarget",
    "TargetParseError",
    "parse_decimal",
    "parse_target_text",
]

HUNDRED = Decimal(100)

# Space, no-break space, narrow no-break space and thin space: all used as thousands separator.
_SPACE_CHARS = "\u0020\u00a0\u202f\u2009"
_SPACE_RE = re.compile(f"[{_SPACE_CHARS}]")
_DECIMAL_RE = re.compile(
    r"^(?P<sign>[-+]?)\s*"
    r"(?P<int>\d{1,3}(?: \d{3})+|\d+)"  # groups of three only, so "1 2" is not read as 12
    r"(?:[.,](?P<frac>\d+))?$"
)


class TargetParseError(ValueError):
    """The target text could not be read; the message says what and shows the text."""


@dataclass(frozen=True)
class ParsedTarget:
    spec: TargetSpec  # indicator-wide target (kind NONE when only per-breakdown values)
    by_breakdown: dict[str, Decimal] = field(default_factory=dict)  # {"women": 16, "men": 17.2}
    unit: str | None = None  # "percent", "msek" or None
    text: str = ""  # the original text
    # The kind of the by_breakdown values (spec.kind is NONE for "K: 16 % M: 17,2 %").
    breakdown_kind: TargetKind = TargetKind.NONE

    @property
    def breakdown_specific(self) -> bool:
        return bool(self.by_breakdown)

    def spec_for(self, breakdown: str) -> TargetSpec:
        """The target that applies to one breakdown: its own value if it has one."""
        if breakdown in self.by_breakdown:
            return TargetSpec(self.breakdown_kind, self.by_breakdown[breakdown])
        return self.spec


def parse_decimal(text: str) -> Decimal:
    """A number as written in Swedish Excel: "92,5", "29 191", "+4", "95 %", Unicode minus.

    A decimal point ("16.9") is accepted too: Swedish text never uses it as a thousands
    separator, so it cannot be misread.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_decimal expects a string, not {type(text).__name__}")
    cleaned = _SPACE_RE.sub(" ", text).strip().replace("\u2212", "-")
    if cleaned.endswith("%"):
        cleaned = cleaned[:-1].rstrip()
    match = _DECIMAL_RE.match(cleaned)
    if not match:
        raise ValueError(f"{text!r} is not a number (expected e.g. 92,5 or 29 191 or -3,5 %)")
    digits = match["int"].replace(" ", "")
    if match["frac"]:
        digits += "." + match["frac"]
    # "+ 0" turns a signed zero (Unicode "minus 0") into plain 0.
    return Decimal(match["sign"] + digits) + 0


# --- the target text grammar -------------------------------------------------------------

# A number inside a text: thousands groups first so "43 000" is one number, not 43.
_NUM = r"[-+]?\d{1,3}(?: \d{3})+(?:[.,]\d+)?|[-+]?\d+(?:[.,]\d+)?"
_UNITS = {
    "%": "percent",
    "procent": "percent",
    "mnkr": "msek",
    "mkr": "msek",
    "msek": "msek",
    "mn kr": "msek",
    "miljoner kronor": "msek",
    "st": None,
    "st.": None,
}
_UNIT = r"%|procent(?!enhet)|mnkr|mkr|msek|mn kr|miljoner kronor|st\.?(?!\w)"
_AT_LEAST_WORDS = {"≥", ">=", "=>", ">", "minst", "lägst", "som minst", "över", "åtminstone"}
_AT_MOST_WORDS = {"≤", "<=", "=<", "<", "högst", "max", "max.", "maximalt", "som mest", "under"}
# Longest first so ">=" wins over ">". "<" / ">" / "under" / "över" are read as <= / >=:
# a value exactly on t is rare and the report writers do not mean to fail it.
_CMP = "|".join(
    re.escape(w) + (r"(?!\w)" if w[-1].isalpha() or w[-1] == "." else "")
    for w in sorted(_AT_LEAST_WORDS | _AT_MOST_WORDS, key=len, reverse=True)
)

_NONE_RE = re.compile(
    r"^(?:följs upp\b.*|följ upp\b.*|efter behov|inget mål|ingen målnivå|saknas|[-\u2013\u2014]+)$"
)
# Scope prefixes that do not change the target: "På regionnivå Minska ...", "Mål: 95 %".
_PREFIX_RE = re.compile(r"^(?:på \w+nivå|mål)\s*[:,]?\s*")

_THRESHOLD_RE = re.compile(
    rf"^(?:(?P<cmp>{_CMP})\s*)?"
    r"(?P<pm>\+/-|\+-|±)?\s*"
    rf"(?P<num>{_NUM})\s*"
    rf"(?P<unit>{_UNIT})?\s*"
    r"(?P<annual>(?:på|per|/) ?(?:hel)?år|helår|årligen)?$"
)

_INCREASE_VERB = r"ök(?:a|ning)\w*|höj\w*|förbättr\w*"
_DECREASE_VERB = r"minsk\w*|sänk\w*|reducer\w*"
_CHANGE_RE = re.compile(
    rf"^(?:(?P<inc>{_INCREASE_VERB})|(?P<dec>{_DECREASE_VERB}))(?!\w)(?P<rest>.*)$"
)
# "%-enheter" / "procentenheter" are percentage points, an amount: not a relative change.
_BY_RE = re.compile(rf"\bmed (?P<num>{_NUM})\s*(?P<unit>%(?!\s*-?\s*enhet)|procent(?!enhet))?")
_TO_RE = re.compile(rf"\btill (?:(?:minst|högst|lägst) )?(?P<num>{_NUM})\s*(?P<unit>{_UNIT})?")
_BASE_YEAR_RE = re.compile(
    r"\b(?:jämfört med|jämfört mot|i jämförelse med|i förhållande till|jmf med|jfr med|"
    r"jmf|jfr|från|mot|sedan)\s+(?:år\s+|helår\s+)?(?P<year>(?:19|20)\d{2})(?!\d)"
)

_BREAKDOWN_LABELS = {
    "k": "women",
    "kvinnor": "women",
    "kvinna": "women",
    "m": "men",
    "män": "men",
    "man": "men",
}
_PAIR_RE = re.compile(
    r"(?P<label>kvinnor|kvinna|män|man|k|m)(?!\w)\s*:?\s*"
    rf"(?:(?P<cmp>{_CMP})\s*)?"
    rf"(?P<num>{_NUM})\s*"
    r"(?P<unit>%|procent(?!enhet))?"
)
_PAIR_SEPARATOR_RE = re.compile(r"(?:\s*[,;/]\s*|\s+och\s+|\s+)")

_EXAMPLES = (
    "'95 %', '≥ 95 %', 'Öka', 'Minska med 50 % jämfört med 2020', 'K: 16 % M: 17,2 %', "
    "'+/-0 mnkr', '43 000 på helår' or 'Följs upp'"
)


def _normalise(text: str) -> str:
    text = _SPACE_RE.sub(" ", text).replace("\u2212", "-").lower()
    # A closing full stop ("Öka.") is punctuation, not part of the target.
    return re.sub(r"\s+", " ", text).strip().rstrip(".!").rstrip()


def _kind_for(direction: Direction) -> TargetKind:
    # A bare number is a floor unless lower is better; "closer to target" has no exact-hit
    # kind, so it is treated as a floor too.
    return TargetKind.AT_MOST if direction == Direction.LOWER_IS_BETTER else TargetKind.AT_LEAST


def _kind_of_cmp(cmp: str | None, direction: Direction) -> TargetKind:
    if cmp is None:
        return _kind_for(direction)
    return TargetKind.AT_LEAST if cmp in _AT_LEAST_WORDS else TargetKind.AT_MOST


def _number(token: str, original: str) -> Decimal:
    try:
        return parse_decimal(token)
    except ValueError as exc:  # the regexes only pass readable numbers; kept as a guard
        raise TargetParseError(f"cannot read the number {token!r} in target {original!r}") from exc


def _parse_breakdowns(text: str, original: str, direction: Direction) -> ParsedTarget | None:
    if not _PAIR_RE.match(text):
        return None
    values: dict[str, Decimal] = {}
    kinds: set[TargetKind] = set()
    units: set[str | None] = set()
    pos = 0
    while pos < len(text):
        if pos:
            sep = _PAIR_SEPARATOR_RE.match(text, pos)
            if sep:
                pos = sep.end()
            if pos == len(text):  # a trailing separator ("K 16, M 17,")
                break
        pair = _PAIR_RE.match(text, pos)
        if not pair:
            raise TargetParseError(
                f"cannot read the per-gender target {original!r} from {text[pos:]!r} on "
                "(expected e.g. 'K: 16 % M: 17,2 %')"
            )
        key = _BREAKDOWN_LABELS[pair["label"]]
        if key in values:
            raise TargetParseError(f"target {original!r} gives {key} twice")
        values[key] = _number(pair["num"], original)
        kinds.add(_kind_of_cmp(pair["cmp"], direction))
        units.add(_UNITS[pair["unit"]] if pair["unit"] else None)
        pos = pair.end()
    if len(kinds) > 1:
        raise TargetParseError(f"target {original!r} mixes 'at least' and 'at most'")
    unit = "percent" if "percent" in units else None
    return ParsedTarget(
        spec=TargetSpec(TargetKind.NONE),
        by_breakdown=values,
        unit=unit,
        text=original,
        breakdown_kind=kinds.pop(),
    )


def _parse_change(text: str, original: str) -> ParsedTarget | None:
    match = _CHANGE_RE.match(text)
    if not match:
        return None
    increase = match["inc"] is not None
    kind = TargetKind.INCREASE if increase else TargetKind.DECREASE
    rest = match["rest"]

    base_year: int | None = None
    if year := _BASE_YEAR_RE.search(rest):
        base_year = int(year["year"])
        rest = rest[: year.start()] + rest[year.end() :]

    relative: Decimal | None = None
    if by := _BY_RE.search(rest):
        if not by["unit"]:
            # "Minska med 50" (absolute change) has no TargetSpec form; do not guess.
            raise TargetParseError(
                f"target {original!r}: a change by an amount is not supported, "
                "only by a percentage (e.g. 'Minska med 50 %')"
            )
        relative = _number(by["num"], original) / HUNDRED
        rest = rest[: by.start()] + rest[by.end() :]

    if to := _TO_RE.search(rest):
        # "Minska till 5 %" is a plain threshold reached by moving the right way.
        if relative is not None or base_year is not None:
            raise TargetParseError(f"target {original!r} gives both a level and a change")
        rest = rest[: to.start()] + rest[to.end() :]
        _reject_leftover_digits(rest, original)
        threshold_kind = TargetKind.AT_LEAST if increase else TargetKind.AT_MOST
        return ParsedTarget(
            spec=TargetSpec(threshold_kind, _number(to["num"], original)),
            unit=_UNITS[to["unit"]] if to["unit"] else None,
            text=original,
        )

    _reject_leftover_digits(rest, original)
    try:
        spec = TargetSpec(kind, base_year=base_year, relative_change=relative)
    except ValueError as exc:  # e.g. "Minska med 150 %"
        raise TargetParseError(f"target {original!r}: {exc}") from exc
    return ParsedTarget(spec=spec, text=original)


def _reject_leftover_digits(rest: str, original: str) -> None:
    # Filler words ("värde från senaste mätning") are fine; an unread number is not.
    if re.search(r"\d", rest):
        raise TargetParseError(f"cannot read the number in {rest.strip()!r} of target {original!r}")


def _parse_threshold(text: str, original: str, direction: Direction) -> ParsedTarget | None:
    match = _THRESHOLD_RE.match(text)
    if not match:
        return None
    value = _number(match["num"], original)
    if match["pm"] and value != 0:
        # "±2 mnkr" is a range around budget, which no target kind expresses.
        raise TargetParseError(f"target {original!r}: only '+/-0' is supported as a ± target")
    unit = _UNITS[match["unit"]] if match["unit"] else None
    # A share is not pro-rated over the year: "95 % på helår" is 95 % at every tertial.
    annual = bool(match["annual"]) and unit != "percent"
    spec = TargetSpec(_kind_of_cmp(match["cmp"], direction), value, annual=annual)
    return ParsedTarget(spec=spec, unit=unit, text=original)


def parse_target_text(
    text: str | None, *, direction: Direction = Direction.HIGHER_IS_BETTER
) -> ParsedTarget:
    """Read a target text; raise TargetParseError when it cannot be read safely.

    `direction` decides what a bare number means: a floor ("95 %" of a share to raise) or a
    ceiling ("7 %" of a share to lower).
    """
    direction = Direction(direction)
    original = text or ""
    normalised = _normalise(original)
    if not normalised or _NONE_RE.match(normalised):
        return ParsedTarget(spec=TargetSpec(TargetKind.NONE), text=original)
    normalised = _PREFIX_RE.sub("", normalised, count=1)
    if not normalised:
        raise TargetParseError(f"target {original!r} names a scope but no target")

    parsed = (
        _parse_breakdowns(normalised, original, direction)
        or _parse_change(normalised, original)
        or _parse_threshold(normalised, original, direction)
    )
    if parsed is None:
        raise TargetParseError(f"cannot read the target {original!r}; expected e.g. {_EXAMPLES}")
    return parsed
