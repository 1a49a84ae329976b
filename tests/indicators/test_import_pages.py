"""The page of one import (/importer/<id>/) for every kind of import and reader.

Imports without a user (the demo's, the inbox's, `import_measurements`) are the ones the
demo links to first, so they are shown as well as those a person sent.
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from indicators.imports.queue import submit_import
from indicators.models import Import, ImportSource
from tests.indicators.conftest import HEADER

CHANGE = "telefon_teleq,div_nara,2022-T2,total,96,,,rättat\n"


@pytest.fixture
def imports(cast, eager_celery) -> dict:
    """The command's import of Nära's T2 (no user) and a preview the manager sent."""
    sent = submit_import(
        fileobj=io.BytesIO((HEADER + CHANGE).encode()),
        filename="t2.csv",
        user=cast["manager"],
        source=ImportSource.UPLOAD,
        preview=True,
    )
    return {
        "without user": Import.objects.filter(user__isnull=True).latest("pk"),
        "with user": Import.objects.get(pk=sent.pk),
    }


@pytest.mark.parametrize("reader", ["admin", "manager"])
@pytest.mark.parametrize("kind", ["without user", "with user"])
def test_the_page_of_an_import_answers_for_every_import_and_reader(
    cast, client, imports, reader, kind
):
    record = imports[kind]
    client.force_login(cast[reader])
    response = client.get(reverse("indicators:import", args=[record.pk]))
    assert response.status_code == 200
    assert record.filename in response.text
    if kind == "with user":
        assert "Manager" in response.text  # the sender's name (tests/cast.py)
        assert "Genomför importen" in response.text  # the sender and an admin decide
    else:
        assert "Genomför importen" not in response.text


def test_the_import_list_links_to_pages_that_answer(cast, client, imports):
    client.force_login(cast["manager"])
    listing = client.get(reverse("indicators:imports"))
    assert listing.status_code == 200
    for record in imports.values():
        url = reverse("indicators:import", args=[record.pk])
        assert url in listing.text
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("username", ["admin", "chef.nara"])
def test_the_demos_own_import_page_answers(client, demo, username):
    """`make demo`'s import list links to the demo's imports (one per division's file, Nära's
    history and the region's), which have no user."""
    client.force_login(get_user_model().objects.get(username=username))
    records = Import.objects.filter(source=ImportSource.DEMO)
    assert records.count() == 4
    listing = client.get(reverse("indicators:imports")).text
    for record in records:
        assert record.user is None
        url = reverse("indicators:import", args=[record.pk])
        assert url in listing
        assert client.get(url).status_code == 200


BAD_ROWS = (
    "telefon_teleq,div_nara,2022-T2,total,96,,,\n"
    "telefon_teleq,div_nara,2022-T2,total,97,,,\n"
    "okand,div_nara,2022-T2,total,1,,,\n"
    "telefon_teleq,div_nara,2022-T2,total,sju,,,\n"
    "telefon_teleq,div_nara,2022-T9,total,1,5,0,\n"
    "telefon_teleq,div_nara,2022-T2,kvinnor,1,,,\n"
)


def test_row_errors_are_stored_in_english_and_shown_in_the_readers_language(
    cast, client, eager_celery, settings
):
    """Issue 10: the page says each row error in the UI's language; the stored error (the
    API's and the command line's) stays English, with its code and parameters."""
    record = submit_import(
        fileobj=io.BytesIO((HEADER + BAD_ROWS).encode()),
        filename="fel.csv",
        user=cast["manager"],
        source=ImportSource.UPLOAD,
    )
    record.refresh_from_db()
    assert record.status == "failed"
    by_row = {(e["row"], e["column"]): e for e in record.errors}
    assert by_row[(4, "indicator")]["message"] == "unknown indicator 'okand'"
    assert by_row[(4, "indicator")]["code"] == "unknown_indicator"
    assert by_row[(4, "indicator")]["params"] == {"code": "okand"}
    client.force_login(cast["manager"])
    url = reverse("indicators:import", args=[record.pk])
    page = client.get(url).text
    for swedish in (
        "samma som rad 2 (telefon_teleq, div_nara, 2022-T2, total)",
        "okänt styrmått &#x27;okand&#x27;",
        "&#x27;sju&#x27; är inte ett tal",
        "&#x27;2022-T9&#x27; är ingen period",
        "nämnaren är 0",
        "&#x27;women&#x27; är ingen uppdelning av telefon_teleq (uppdelningar: total)",
    ):
        assert swedish in page, swedish
    assert "is not a number" not in page and "unknown indicator" not in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(url).text
    assert "&#x27;sju&#x27; is not a number" in english
    assert "unknown indicator &#x27;okand&#x27;" in english


def test_an_error_stored_before_codes_is_shown_as_stored(cast, client, imports):
    record = imports["with user"]
    record.errors = [{"row": 2, "column": "value", "message": "'x' is not a number"}]
    record.save(update_fields=["errors"])
    client.force_login(cast["manager"])
    assert (
        "&#x27;x&#x27; is not a number"
        in client.get(reverse("indicators:import", args=[record.pk])).text
    )
