"""The measurement page's codes and user names, kept between requests while the data version
holds (api.values.serializers.with_codes): a page read again asks only for its rows, and a
renamed code or user shows on the next page once the rename has committed.

Transactional: the version moves when a writing transaction commits, as between requests in
production, so these tests commit their changes.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from divisions.models import OrgUnit
from indicators.models import Indicator, Measurement

pytestmark = pytest.mark.django_db(transaction=True)

PAGE = "/api/v1/measurements/?page_size=100"
NAME_TABLES = ("indicators_indicator", "divisions_orgunit", "auth_user")


def read(api) -> tuple[list[dict], list[str]]:
    """The page's rows, and the statements that read a code or user name."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get(PAGE)
    assert response.status_code == 200, response.content
    asked = [
        q["sql"]
        for q in captured.captured_queries
        if " FROM " in q["sql"] and q["sql"].split(" FROM ", 1)[1].startswith(NAME_TABLES)
    ]
    return response.json()["results"], asked


@pytest.fixture
def signed(cast):
    """A value entered by hand, so that the page names a user too."""
    measurement = Measurement.objects.order_by("id").first()
    Measurement.objects.filter(pk=measurement.pk).update(entered_by=cast["manager"])
    return measurement


def test_a_page_read_again_asks_for_no_names(api, signed):
    first, asked_first = read(api)
    again, asked_again = read(api)
    assert again == first
    assert len(asked_first) == 1  # the codes and names of the first page, in one statement
    assert asked_again == []
    row = next(r for r in again if r["id"] == signed.pk)
    assert row["entered_by"] == "chef.api"
    assert row["indicator"] == signed.indicator.code
    assert row["org_unit"] == signed.org_unit.code


def test_renamed_codes_and_users_show_on_the_next_page(api, signed):
    read(api)
    OrgUnit.objects.filter(pk=signed.org_unit_id).update(code="hc_nytt_namn")
    Indicator.objects.filter(pk=signed.indicator_id).update(code="nytt_matt")
    get_user_model().objects.filter(username="chef.api").update(username="chef.ny")

    rows, asked = read(api)

    row = next(r for r in rows if r["id"] == signed.pk)
    assert (row["org_unit"], row["indicator"], row["entered_by"]) == (
        "hc_nytt_namn",
        "nytt_matt",
        "chef.ny",
    )
    assert len(asked) == 1  # read afresh


def test_a_rename_not_yet_committed_is_seen_by_its_own_transaction_only(api, signed):
    read(api)
    with transaction.atomic():
        OrgUnit.objects.filter(pk=signed.org_unit_id).update(code="hc_utkast")
        # Its own transaction sees its change (its version is not to be trusted)...
        rows, _asked = read(api)
        assert next(r for r in rows if r["id"] == signed.pk)["org_unit"] == "hc_utkast"
        transaction.set_rollback(True)
    # ...and after the rollback nobody does, though the names were read inside it.
    rows, _asked = read(api)
    assert next(r for r in rows if r["id"] == signed.pk)["org_unit"] == signed.org_unit.code
