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
