"""Incremental sync that never loses a row (issue 11, finding 7).

An import's rows carry the time it started, and become visible when it commits, maybe
minutes later. A sync that ran in between and kept the newest `updated_at` it saw never
saw them. The change marker and the watermark (indicators.selectors.sync_watermark) do
not depend on clocks: here an import commits while a sync runs, on real PostgreSQL with
the import in a thread (its own connection and transaction), and nothing is lost.
"""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from accounts.services import create_token
from divisions.models import OrgUnit
from indicators.imports.run import import_measurements
from indicators.models import Measurement
from tests.cast import make_user
from tests.sqlite_demo import run_on_demo_database

BASE = "/api/v1/measurements/"


def client_of(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {create_token(user=user, name='sync')[1]}")
    return client


def sync(api: APIClient, changed_since: int | None = None) -> tuple[dict[int, str], int]:
    """Every page of one sync: {id: value} and the watermark of its first page."""
    url = f"{BASE}?page_size=20" + (f"&changed_since={changed_since}" if changed_since else "")
    rows, watermark = {}, None
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        if watermark is None:
            watermark = body["sync_watermark"]
            assert response["X-Sync-Watermark"] == str(watermark)
        rows.update({row["id"]: row["value"] for row in body["results"]})
        url = body["next"]
    return rows, watermark


def next_tertial_file(leave_out: Measurement) -> bytes:
    """Nära's T2 2022 values again as T3 2022: new rows for the import to write. The values
    of `leave_out`'s indicator and unit are left out, so that editing it by hand does not
    wait for the import's locks (it would answer 409, busy)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["indicator", "org_unit", "period", "breakdown", "value"])
    rows = Measurement.objects.filter(period="2022-T2").exclude(
        indicator=leave_out.indicator_id, org_unit=leave_out.org_unit_id
    )
    for indicator, unit, breakdown, value in rows.values_list(
        "indicator__code", "org_unit__code", "breakdown", "value"
    ):
        writer.writerow([indicator, unit, "2022-T3", breakdown, value])
    return out.getvalue().encode()


@pytest.mark.django_db(transaction=True)
def test_a_sync_while_an_import_commits_loses_no_row(nara):
    admin = make_user("admin.sync", "administrator", None)
    api = client_of(admin)
    mirror, watermark = sync(api)  # the analyst's first, full copy
    assert len(mirror) == Measurement.objects.count() > 50

    edited = Measurement.objects.filter(org_unit=OrgUnit.objects.get(code="div_nara")).first()
    content = next_tertial_file(leave_out=edited)
    written, commit, failed = threading.Event(), threading.Event(), []

    def long_import() -> None:
        try:
            with transaction.atomic():  # the import's transaction, held open until `commit`
                result = import_measurements(fileobj=io.BytesIO(content), filename="t3.csv")
                assert result.created > 30
                written.set()
                assert commit.wait(60)
        except BaseException as exc:  # reported by the test below
            failed.append(exc)
            written.set()
        finally:
            connection.close()

    importer = threading.Thread(target=long_import)
    importer.start()
    try:
        assert written.wait(120) and not failed, failed
        # Meanwhile someone corrects a value by hand: committed after the import started.
        response = api.patch(f"{BASE}{edited.pk}/", {"value": "4711"}, format="json")
        assert response.status_code == 200, response.content

        # The sync during the import sees the edit, not the import's rows (not committed).
        # Rows may come again: the watermark is the oldest transaction running anywhere on
        # the server (other sessions too), so it errs towards sending a row twice.
        changes, next_watermark = sync(api, changed_since=watermark)
        assert changes[edited.pk] == response.json()["value"] == "4711"
        assert not Measurement.objects.filter(pk__in=changes, period="2022-T3").exists()
        mirror.update(changes)
        newest_seen = max(
            Measurement.objects.filter(pk__in=changes).values_list("updated_at", flat=True)
        )
    finally:
        commit.set()
        importer.join(60)
    assert not importer.is_alive() and not failed, failed

    # The next sync from the watermark has every row the import committed.
    changes, _ = sync(api, changed_since=next_watermark)
    mirror.update(changes)
    stored = {pk: value for pk, value in Measurement.objects.values_list("pk", "value")}
    assert set(mirror) == set(stored)
    assert Measurement.objects.filter(period="2022-T3").count() > 30
    assert all(
        mirror[pk] == api.get(f"{BASE}{pk}/").json()["value"]
        for pk in list(stored)[:: max(1, len(stored) // 20)]
    )
    # What went wrong before: the import's rows are older than the newest change seen.
    by_time = api.get(BASE, {"updated_since": newest_seen.isoformat(), "page_size": 1000}).json()
    assert not {row["id"] for row in by_time["results"]} & set(
        Measurement.objects.filter(period="2022-T3").values_list("pk", flat=True)
    )


def test_the_watermark_is_in_every_format_and_changed_since_is_checked(api):
    listed = api.get(BASE)
    assert int(listed["X-Sync-Watermark"]) == listed.json()["sync_watermark"] > 0
    exported = api.get(f"{BASE}?format=csv&org_unit=avp_pajala")
    assert int(exported["X-Sync-Watermark"]) > 0
    for bad in ("-1", "1.5", "abc", str(2**63)):
        response = api.get(f"{BASE}?changed_since={bad}")
        assert response.status_code == 400, bad
        assert "changed_since" in response.json()


def test_a_page_has_the_watermark_of_its_own_snapshot_and_an_empty_one_has_one_too(api):
    # A page reads the watermark in its own statement; an empty page has no row to carry
    # it, so it is read before the rows are read again. Both are transaction ids no later
    # than the one a statement after them sees.
    full = api.get(BASE)
    empty = api.get(f"{BASE}?changed_since={2**62}")
    assert full.json()["results"] and empty.json()["results"] == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        later = cursor.fetchone()[0]
    for response in (full, empty):
        watermark = response.json()["sync_watermark"]
        assert isinstance(watermark, int) and 0 < watermark <= later
        assert response["X-Sync-Watermark"] == str(watermark)


def test_every_write_path_marks_the_row(api, nara):
    watermark = api.get(BASE).json()["sync_watermark"]
    row = Measurement.objects.filter(org_unit__code="avp_pajala").first()
    Measurement.objects.filter(pk=row.pk).update(comment="ändrad i databasen")  # any UPDATE
    row.refresh_from_db()
    assert row.change_marker >= watermark  # marked by the writing transaction
    changes = api.get(f"{BASE}?changed_since={watermark}").json()["results"]
    # The watermark is the oldest transaction still running in the whole server: with other
    # test processes busy it may send more rows again (never fewer), so: at least this one.
    assert row.pk in [change["id"] for change in changes]


def test_the_demo_database_sqlite_marks_changes_and_syncs_too(tmp_path):
    """SQLite (make demo) numbers the writes in its triggers: the same protocol works."""
    script = """
        import io, json
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", verbosity=0, skip_checks=True)
        from django.contrib.auth import get_user_model
        from rest_framework.test import APIClient
        from demo.nara import DATA_DIR
        from indicators.definitions import load_scorecard, read_definition
        from indicators.imports.run import import_measurements
        from indicators.models import Measurement

        load_scorecard(definition=read_definition((DATA_DIR / "scorecard.yaml").read_text()))
        csv = (DATA_DIR / "measurements.csv").read_bytes()
        import_measurements(fileobj=io.BytesIO(csv), filename="a.csv")
        api = APIClient()
        api.force_authenticate(get_user_model().objects.create_superuser("admin"))
        first = api.get("/api/v1/measurements/?page_size=1000").json()
        header = b"indicator,org_unit,period,breakdown,value,numerator,denominator,comment\\n"
        fix = header + b"telefon_teleq,div_nara,2022-T2,total,97,,,\\n"
        import_measurements(fileobj=io.BytesIO(fix), filename="b.csv")
        changed = api.get(
            f"/api/v1/measurements/?changed_since={first['sync_watermark']}"
        ).json()["results"]
        print("RESULT" + json.dumps({
            "rows": len(first["results"]),
            "unmarked": Measurement.objects.filter(change_marker__isnull=True).count(),
            "changed": [row["value"] for row in changed],
        }))
        """
    out = run_on_demo_database(script, tmp_path)
    assert out["rows"] > 80 and out["unmarked"] == 0
    assert out["changed"] == ["97"]
