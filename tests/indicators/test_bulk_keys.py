"""Foreign keys checked and secondary indexes built once at the end of a bulk load
(indicators.bulk.built_at_the_end): both come back as they were, and a row pointing
nowhere still fails the load."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from divisions.models import OrgUnit
from indicators import bulk
from indicators.models import Aggregate, Assessment, Indicator, Measurement

pytestmark = pytest.mark.django_db


def _keys() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated"
            " FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN"
            " ('indicators_measurement', 'indicators_assessment', 'indicators_aggregate')"
            " ORDER BY 1, 2"
        )
        keys = cursor.fetchall()
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid::regclass::text IN"
            " ('indicators_measurement', 'indicators_assessment', 'indicators_aggregate')"
            " ORDER BY 1"
        )
        return keys + cursor.fetchall()


def test_the_keys_are_dropped_for_the_block_and_come_back_as_they_were(nara):
    unit = OrgUnit.objects.get(code="div_nara")
    before = _keys()
    keys = [row for row in before if len(row) == 4]
    assert len(keys) >= 8 and all(validated for *_, validated in keys)
    assert sum("UNIQUE" not in row[0] for row in before if len(row) == 1) >= 8
    with transaction.atomic():
        with bulk.built_at_the_end(Measurement, Assessment, Aggregate):
            # Only the unique and primary indexes are left while the rows go in.
            left = _keys()
            assert left and all("UNIQUE" in row[0] for row in left)
            Measurement.objects.create(
                indicator=Indicator.objects.first(),
                org_unit=unit,
                period="2031",
                breakdown="total",
                value=1,
                updated_at=timezone.now(),
            )
        assert _keys() == before


def test_a_row_pointing_nowhere_fails_the_load_and_the_keys_stay(nara):
    unit = OrgUnit.objects.get(code="div_nara")
    before = _keys()
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        bulk.built_at_the_end(Measurement),
    ):
        Measurement.objects.create(
            indicator=Indicator.objects.first(),
            org_unit_id=unit.pk + 10_000_000,  # no such unit
            period="2031",
            breakdown="total",
            value=1,
            updated_at=timezone.now(),
        )
    assert _keys() == before
    assert not Measurement.objects.filter(period="2031").exists()
