"""The API's JSON renderer (orjson) writes what DRF's own renderer writes, byte for byte,
for every kind of value the API sends; what orjson refuses goes to DRF's renderer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from api.renderers import JSONRenderer
from scorecard.models import StatusChoices

VALUES = {
    "text": 'Åtgärd: "citat" \\ \t ny\nrad \x01 🙂',
    "separators": "a\u2028b\u2029c",  # escaped, as DRF does, for old JavaScript
    "integers": [0, -1, 2**63 - 1, -(2**63)],
    "floats": [0.1, 0.25, 123456789.125, -0.0, 1e16],
    "decimal": Decimal("92.500"),  # a float, as DRF's encoder writes a bare Decimal
    "utc": datetime(2026, 12, 4, 3, 39, 48, 508525, tzinfo=UTC),
    "offset": datetime(2026, 3, 29, 2, 0, tzinfo=timezone(timedelta(hours=2))),
    "naive": datetime(2026, 1, 1, 12, 0, 0, 1),
    "date": date(2026, 2, 28),
    "time": time(8, 30, 15, 250000),
    "uuid": UUID("12345678-1234-5678-1234-567812345678"),
    "lazy": gettext_lazy("Styrmått"),
    "choice": StatusChoices.choices and next(iter(StatusChoices)),
    "empty": [{}, [], None, True, False, ""],
    "nested": ReturnDict({"results": ReturnList([{"id": 1}], serializer=None)}, serializer=None),
    "tuple": (1, "två"),
}


def drf(data, media_type="application/json") -> bytes:
    return renderers.JSONRenderer().render(data, media_type, {})


@pytest.mark.parametrize("key", VALUES)
def test_every_kind_of_value_is_written_as_drf_writes_it(key):
    data = {key: VALUES[key]}
    assert JSONRenderer().render(data, "application/json", {}) == drf(data)


def test_a_whole_page_is_written_as_drf_writes_it():
    assert JSONRenderer().render(VALUES, "application/json", {}) == drf(VALUES)


@pytest.mark.parametrize(
    "data",
    [
        {"big": 2**64},  # over 64 bits: orjson refuses, the json module does not
        {1: "a key that is not text"},
    ],
    ids=["big integer", "integer key"],
)
def test_what_orjson_refuses_is_written_by_drf(data):
    assert JSONRenderer().render(data, "application/json", {}) == drf(data)


def test_a_lone_surrogate_fails_as_in_drf():
    # No request can store one (StrictJSONParser, the forms); should one get through, the
    # answer fails as it did before rather than sending text that is not UTF-8.
    with pytest.raises(UnicodeEncodeError):
        drf({"text": "\ud800"})
    with pytest.raises(UnicodeEncodeError):
        JSONRenderer().render({"text": "\ud800"}, "application/json", {})


def test_a_small_float_is_the_same_number_in_other_digits():
    # The one difference: orjson writes 0.00001 where the json module writes 1e-05.
    rendered = JSONRenderer().render({"progress": 1e-5}, "application/json", {})
    assert json.loads(rendered) == json.loads(drf({"progress": 1e-5})) == {"progress": 1e-5}


def test_indented_output_as_asked_for():
    media_type = "application/json; indent=2"
    rendered = JSONRenderer().render({"a": [1]}, media_type, {})
    assert rendered == drf({"a": [1]}, media_type)
    assert b'\n  "a"' in rendered


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None, "application/json", {}) == b""


def test_the_api_answers_with_this_renderer(api):
    response = api.get("/api/v1/indicators/")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is JSONRenderer
