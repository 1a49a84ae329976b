"""Closing and reopening a report period: subtree, who may, what it records, what it shows."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry, Operation
from audit.services import Actor
from divisions.models import OrgUnit
from scorecard import closing
from scorecard.models import PeriodClose
from tests.cast import OUTSIDE, PERIOD

CLOSE_URL = f"/rapportera/div_nara/{PERIOD}/stang/"
REOPEN_URL = f"/rapportera/div_nara/{PERIOD}/oppna/"


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def test_administrator_closes_a_division_and_its_subtree(client, cast):
    client.force_login(cast["admin"])
    response = client.post(CLOSE_URL)
    assert response.status_code == 302
    for code in ("div_nara", "primarvarden", "avp_pajala"):
        assert closing.is_closed(unit(code), PERIOD), code
    assert not closing.is_closed(unit("region_norrbotten"), PERIOD)
    assert not closing.is_closed(unit(OUTSIDE), PERIOD)
    assert not closing.is_closed(unit("div_nara"), "2022-T1")
    with pytest.raises(closing.PeriodClosed, match="Perioden 2022-T2 är stängd för Division Nära"):
        closing.ensure_open(unit("avp_pajala"), PERIOD)
    entry = AuditEntry.objects.get(operation=Operation.CLOSE)
    assert (entry.username, entry.org_unit.code, entry.period) == ("admin", "div_nara", PERIOD)


def test_the_closed_report_is_shown_as_final(client, cast):
    client.force_login(cast["admin"])
    client.post(CLOSE_URL)
    client.force_login(cast["board"])
    page = client.get(f"/rapportera/avp_pajala/{PERIOD}/").text
    assert "Slutlig rapport." in page and "Perioden stängdes för Division Nära" in page
    client.force_login(cast["manager"])
    page = client.get(f"/rapportera/div_nara/{PERIOD}/").text
    assert "Slutlig rapport." in page
    assert "Rapportera" not in page and "Skriv samlad bedömning" not in page


@pytest.mark.parametrize("role", ["manager", "reporter", "board", "analyst", "outsider"])
def test_only_administrators_close_or_reopen(client, cast, role):
    client.force_login(cast[role])
    assert client.post(CLOSE_URL).status_code == 403
    assert not PeriodClose.objects.exists()
    closing.close_period(actor=Actor(cast["admin"]), org_unit=unit("div_nara"), period=PERIOD)
    assert client.post(REOPEN_URL).status_code == 403
    assert closing.is_closed(unit("div_nara"), PERIOD)


def test_reopening_is_recorded_and_opens_the_subtree(client, cast):
    client.force_login(cast["admin"])
    client.post(CLOSE_URL)
    response = client.post(REOPEN_URL, {"reason": "Fel utfall för Pajala"})
    assert response.status_code == 302
    assert not closing.is_closed(unit("avp_pajala"), PERIOD)
    close = PeriodClose.objects.get()
    assert close.reopened_by == cast["admin"] and close.reopened_at is not None
    operations = list(AuditEntry.objects.order_by("pk").values_list("operation", flat=True))
    assert operations == [Operation.CLOSE, Operation.REOPEN]
    # Closing again starts a new close; the history of the first one stays.
    client.post(CLOSE_URL)
    assert PeriodClose.objects.count() == 2 and closing.is_closed(unit("div_nara"), PERIOD)


def test_a_close_on_the_division_is_reopened_on_the_division_only(cast):
    admin = Actor(cast["admin"])
    closing.close_period(actor=admin, org_unit=unit("div_nara"), period=PERIOD)
    with pytest.raises(closing.NotClosed):
        closing.reopen_period(
            actor=admin, org_unit=unit("primarvarden"), period=PERIOD, reason="Rättelse"
        )
    with pytest.raises(closing.AlreadyClosed):
        closing.close_period(actor=admin, org_unit=unit("div_nara"), period=PERIOD)


def test_services_refuse_non_administrators(cast):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        closing.close_period(actor=Actor(cast["manager"]), org_unit=unit("div_nara"), period=PERIOD)


def test_closed_lookup_for_row_by_row_paths(cast, django_assert_num_queries):
    closing.close_period(actor=Actor(cast["admin"]), org_unit=unit("primarvarden"), period=PERIOD)
    paths = {code: unit(code).path for code in ("avp_pajala", "div_nara", "folktandvarden")}
    with django_assert_num_queries(1):
        is_closed_at = closing.closed_lookup()
    with django_assert_num_queries(0):
        assert is_closed_at(paths["avp_pajala"], PERIOD)
        assert not is_closed_at(paths["avp_pajala"], "2022-T1")
        assert not is_closed_at(paths["div_nara"], PERIOD)
        assert not is_closed_at(paths["folktandvarden"], PERIOD)
