"""/api/v1/cell-comments/: readers get the published comments, writers also their drafts;
writes follow the roles, refuse closed periods, are audited, and exports keep text text."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from audit.models import AuditEntry, Source
from audit.services import Actor
from divisions.models import OrgUnit
from indicators.comments import save_comment
from indicators.models import CellComment, Indicator
from scorecard import closing

from .conftest import OTHER_DIVISION, token_client

URL = "/api/v1/cell-comments/"
SPLIT = "vald_nara_relation"
BODY = {
    "indicator": SPLIT,
    "org_unit": "div_nara",
    "period": "2022-t2",  # canonicalised
    "breakdown": "men",
    "text": "Färre frågade under semestern.",
}


@pytest.fixture
def stored(cast):
    """A published comment in Nära and a draft in each division."""
    for unit, breakdown, text, state in (
        ("div_nara", "women", "Publicerad", "published"),
        ("div_nara", "men", "Utkast Nära", "draft"),
        (OTHER_DIVISION, "women", "Utkast Annan", "draft"),
    ):
        save_comment(
            user=cast["administrator"],
            indicator=Indicator.objects.get(code=SPLIT),
            org_unit=OrgUnit.objects.get(code=unit),
            period="2022-T2",
            breakdown=breakdown,
            text=text,
            state=state,
        )


def texts(response) -> list[str]:
    assert response.status_code == 200, response.content
    return sorted(row["text"] for row in response.json()["results"])


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("board_member", ["Publicerad"]),
        ("analyst", ["Publicerad"]),
        ("manager", ["Publicerad", "Utkast Nära"]),
        ("other_manager", ["Publicerad", "Utkast Annan"]),
        ("administrator", ["Publicerad", "Utkast Annan", "Utkast Nära"]),
    ],
)
def test_readers_get_the_published_and_writers_their_drafts(cast, stored, role, expected):
    assert texts(token_client(cast[role]).get(URL)) == expected


def test_filters_by_indicator_unit_period_and_state(cast, stored):
    client = token_client(cast["administrator"])
    assert texts(client.get(URL, {"org_unit": "div_nara", "period": "2022-T2"})) == [
        "Publicerad",
        "Utkast Nära",
    ]
    assert texts(client.get(URL, {"state": "draft", "org_unit": OTHER_DIVISION})) == [
        "Utkast Annan"
    ]
    assert texts(client.get(URL, {"indicator": "telefon_teleq"})) == []
    assert texts(client.get(URL, {"period": "2022-T1"})) == []
    assert client.get(URL, {"period": "2022-T9"}).status_code == 400


def test_a_manager_posts_patches_and_deletes_with_the_trail(cast):
    client = token_client(cast["manager"])
    response = client.post(URL, BODY, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert {k: created[k] for k in ("period", "state", "author")} == {
        "period": "2022-T2",
        "state": "published",
        "author": "chef.api",
    }
    again = client.post(URL, {**BODY, "text": "Ny text"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == created["id"]
    patched = client.patch(f"{URL}{created['id']}/", {"state": "draft"}, format="json")
    assert patched.json()["state"] == "draft" and patched.json()["text"] == "Ny text"
    assert client.delete(f"{URL}{created['id']}/").status_code == 204
    assert not CellComment.objects.exists()
    entries = AuditEntry.objects.filter(content_type__model="cellcomment")
    assert sorted(entries.values_list("operation", flat=True)) == [
        "create",
        "delete",
        "update",
        "update",
    ]
    assert set(entries.values_list("source", flat=True)) == {Source.API}


@pytest.mark.parametrize("role", ["board_member", "analyst", "other_manager"])
def test_others_are_refused_and_nothing_changes(cast, stored, role):
    client = token_client(cast[role])
    assert client.post(URL, BODY, format="json").status_code == 403
    published = CellComment.objects.get(text="Publicerad")
    assert client.patch(f"{URL}{published.pk}/", {"text": "x"}, format="json").status_code in (403,)
    assert client.delete(f"{URL}{published.pk}/").status_code == 403
    assert CellComment.objects.count() == 3 and published.text == "Publicerad"


def test_a_closed_period_and_bad_input_are_clear_errors(cast, stored):
    client = token_client(cast["manager"])
    for body, field in (
        ({**BODY, "text": ""}, "text"),
        ({**BODY, "text": "\x01\x02"}, "text"),  # nothing left once cleaned
        ({**BODY, "text": "x" * 2001}, "text"),
        ({**BODY, "breakdown": "total"}, "breakdown"),
        ({**BODY, "state": "hidden"}, "state"),
        ({**BODY, "period": "2022-T7"}, "period"),
    ):
        response = client.post(URL, body, format="json")
        assert response.status_code == 400 and field in response.json(), (body, response.json())
    closing.close_period(
        actor=Actor(cast["administrator"]),
        org_unit=OrgUnit.objects.get(code="div_nara"),
        period="2022-T2",
    )
    assert client.post(URL, BODY, format="json").status_code == 403
    draft = CellComment.objects.get(text="Utkast Nära")
    assert (
        client.patch(f"{URL}{draft.pk}/", {"state": "published"}, format="json").status_code == 403
    )
    assert client.delete(f"{URL}{draft.pk}/").status_code == 403
    assert CellComment.objects.get(pk=draft.pk).state == "draft"


def test_exports_keep_a_formula_as_text(cast):
    client = token_client(cast["manager"])
    client.post(URL, {**BODY, "text": '=HYPERLINK("http://x","y")'}, format="json")
    exported = b"".join(client.get(URL, {"format": "csv"}).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(exported)))
    text_column = rows[0].index("text")
    assert rows[1][text_column] == '\'=HYPERLINK("http://x","y")'
    response = client.get(URL, {"format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    cell = book.active.cell(row=2, column=text_column + 1)
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")'


def test_the_report_carries_the_published_comment_on_its_line(cast, stored):
    report = token_client(cast["board_member"]).get("/api/v1/reports/div_nara/2022-T2/").json()
    noted = {
        (line["indicator"], line["breakdown"]): (line["note"], line["note_number"])
        for line in report["lines"]
        if line.get("note")
    }
    # The published one only, numbered as the page numbers it.
    assert noted == {(SPLIT, "women"): ("Publicerad", 1)}
