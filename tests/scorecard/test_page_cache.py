"""The rendered-page cache (dashboard/page_cache.py): pages read twice render once, and no
reader ever sees what the data was before a change that has committed.

Transactional: the version moves when a writing transaction commits, as it does between
requests in production, so these tests commit their changes.
"""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dashboard import page_cache
from dashboard.presentation import quantity
from divisions.models import OrgUnit
from indicators.editing import set_measurement
from indicators.models import Indicator
from tests.cast import PERIOD
from tests.conftest import run

pytestmark = pytest.mark.django_db(transaction=True)

DIVISION = f"/styrkort/div_nara/{PERIOD}/"
INDICATOR = f"/styrmatt/besok_filialer/div_nara/{PERIOD}/"
OVERVIEW = f"/oversikt/{PERIOD}/"


@pytest.fixture
def readers(cast, client):
    from django.test import Client

    board, manager = client, Client()
    board.force_login(cast["board"])
    manager.force_login(cast["manager"])
    return board, manager


def visits(client, path: str) -> tuple[str, int]:
    """The page's main content (the chrome around it carries a fresh CSRF token each time)
    and how many queries it took."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, path
    main = response.text.split("<main", 1)[1].split("</main>", 1)[0]
    return main, len(captured)


def line(page: str, indicator: str) -> str:
    return page.split(f'data-indicator="{indicator}"')[1].split("</tbody>")[0]


def shown(value: str) -> str:
    unit = Indicator.objects.get(code="besok_filialer").unit
    return quantity(Decimal(value), unit, "total")


def test_every_table_a_page_reads_has_the_change_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = %s",
            [page_cache.TRIGGER],
        )
        triggered = {name.strip('"') for (name,) in cursor.fetchall()}
    expected = {*page_cache.watched_tables(), get_user_model()._meta.db_table}
    assert {"indicators_measurement", "indicators_assessment", "divisions_orgunit"} <= expected
    assert expected <= triggered, sorted(expected - triggered)


@pytest.mark.parametrize("path", [DIVISION, INDICATOR, OVERVIEW])
def test_a_page_read_again_comes_from_the_cache_with_the_same_content(readers, path):
    board, _ = readers
    first, first_queries = visits(board, path)
    again, again_queries = visits(board, path)
    assert again == first
    # Session, user, roles, the version: none of the report's own queries.
    assert again_queries <= 6 < first_queries, (first_queries, again_queries)


def test_an_edited_value_is_on_the_page_at_once(readers, cast):
    board, _ = readers
    page, _ = visits(board, DIVISION)
    assert shown("6171") in line(page, "besok_filialer")
    visits(board, DIVISION)  # now cached
    set_measurement(
        user=cast["manager"],
        indicator=Indicator.objects.get(code="besok_filialer"),
        org_unit=OrgUnit.objects.get(code="div_nara"),
        period=PERIOD,
        value=Decimal("6250"),
    )
    page, _ = visits(board, DIVISION)
    assert shown("6250") in line(page, "besok_filialer")
    assert shown("6171") not in line(page, "besok_filialer")
    history, _ = visits(board, INDICATOR)
    assert shown("6250") in history


def test_an_import_written_by_copy_is_on_the_page_at_once(readers, tmp_path):
    board, _ = readers
    visits(board, DIVISION)
    visits(board, DIVISION)
    before = page_cache.data_version()
    upload = tmp_path / "values.csv"
    upload.write_text(
        "indicator,org_unit,period,breakdown,value\nbesok_filialer,div_nara,2022-T2,total,7007\n",
        encoding="utf-8",
    )
    run("import_measurements", str(upload))
    assert page_cache.data_version() > before
    page, _ = visits(board, DIVISION)
    assert shown("7007") in line(page, "besok_filialer")


def test_a_renamed_unit_and_a_renamed_user_change_the_version_and_a_sign_in_does_not(cast):
    version = page_cache.data_version()
    OrgUnit.objects.filter(code="div_nara").update(name="Division Nära och Hemma")
    assert page_cache.data_version() == version + 1
    user = cast["manager"]
    user.last_login = timezone.now()
    user.save(update_fields=["last_login"])
    assert page_cache.data_version() == version + 1
    user.first_name = "Ny"
    user.save(update_fields=["first_name"])
    assert page_cache.data_version() == version + 2


def test_the_renamed_unit_is_on_its_cached_page(readers):
    board, _ = readers
    visits(board, DIVISION)
    OrgUnit.objects.filter(code="div_nara").update(name="Division Nära och Hemma")
    page, _ = visits(board, DIVISION)
    assert "Division Nära och Hemma" in page


def test_a_transaction_that_has_changed_data_reads_around_the_cache(nara):
    assert page_cache.data_version() is not None
    with transaction.atomic():
        assert page_cache.data_version() is not None  # read only so far
        OrgUnit.objects.filter(code="div_nara").update(name="Ännu inte sparad")
        assert page_cache.data_version() is None
        transaction.set_rollback(True)


def test_a_transaction_that_filed_its_change_early_still_reads_around_the_cache(nara):
    with transaction.atomic():
        OrgUnit.objects.filter(code="div_nara").update(name="Ännu inte sparad")
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # files the change now
        assert page_cache.data_version() is None
        transaction.set_rollback(True)


def test_an_import_leaves_the_version_to_its_commit(nara):
    """The import checks its foreign keys per statement, by name: the version row is not
    locked for the whole import, so other writers' commits do not wait for it."""
    from indicators.bulk import MeasurementStage

    with transaction.atomic():
        MeasurementStage()
        OrgUnit.objects.filter(code="div_nara").update(name="Ännu inte sparad")
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT xmin = xid(pg_current_xact_id()) FROM {page_cache.VERSION_TABLE}"
            )
            assert cursor.fetchone() == (False,)
        assert page_cache.data_version() is None
        transaction.set_rollback(True)


def test_the_links_to_report_follow_the_reader_not_the_cache(readers):
    board, manager = readers
    for client in (board, manager, board, manager):
        page, _ = visits(client, DIVISION)
        assert ("Rapportera för perioden" in page) is (client is manager)


def test_each_language_has_its_own_cached_page(readers):
    board, _ = readers
    swedish, _ = visits(board, DIVISION)
    board.post(reverse("set_language"), {"language": "en", "next": DIVISION})
    english, _ = visits(board, DIVISION)
    assert "Måluppfyllelse per perspektiv" in swedish
    assert "Måluppfyllelse per perspektiv" not in english
    assert "Goal fulfilment by perspective" in english
