"""An indicator is mapped to a Kolada KPI in the scorecard file (`kolada:`) or the admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from indicators.definitions import DefinitionError, load_scorecard, read_definition
from indicators.models import Indicator

FILE = Path(__file__).resolve().parents[1] / "data" / "second_region.yaml"


def _load(kolada: str | None):
    text = FILE.read_text(encoding="utf-8")
    if kolada is not None:
        text = text.replace(
            "  - code: co2_resor\n", f"  - code: co2_resor\n    kolada: {kolada}\n", 1
        )
    return load_scorecard(definition=read_definition(text))


def test_the_file_maps_the_indicator_and_a_second_load_changes_nothing(db):
    _load("N79173")
    assert Indicator.objects.get(code="co2_resor").kolada_kpi == "N79173"
    assert _load("N79173").changed["indicators"] == 0


def test_a_file_without_the_key_keeps_the_catalogues_kpi(db):
    _load("N79173")
    _load(None)
    assert Indicator.objects.get(code="co2_resor").kolada_kpi == "N79173"


def test_a_file_teaches_an_unmapped_indicator_its_kpi(db):
    _load(None)
    assert _load("N79173").changed["indicators"] == 1
    assert Indicator.objects.get(code="co2_resor").kolada_kpi == "N79173"


def test_another_kpi_than_the_catalogues_is_refused(db):
    _load("N79173")
    with pytest.raises(DefinitionError) as error:
        _load("N79179")
    assert "indicators.co2_resor: the catalogue has Kolada KPI 'N79173', this file 'N79179'" in str(
        error.value.problems
    )
    assert Indicator.objects.get(code="co2_resor").kolada_kpi == "N79173"


def test_a_malformed_id_is_refused_with_its_place(db):
    with pytest.raises(DefinitionError) as error:
        _load("'79173'")
    assert error.value.problems == [
        "indicators[0].kolada: '79173' is not a Kolada KPI id (a letter and five digits, "
        "e.g. N79173)"
    ]


def test_the_admin_form_refuses_a_malformed_id(db):
    indicator = Indicator(code="x", name="x", unit="percent", direction="increase")
    indicator.kolada_kpi = "n79173"
    with pytest.raises(ValidationError) as error:
        indicator.full_clean()
    assert "kolada_kpi" in error.value.message_dict
