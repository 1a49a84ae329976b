"""The suite's copy of the demo (tests/conftest.py, Snapshot) restores into a database whose
content types were made again under other ids, as a flush after a transactional test or a
migration test does: the demo's audit trail names its objects' types by id."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection

from audit.models import AuditEntry
from tests.conftest import _Session


def test_the_demo_restores_after_its_content_types_moved(db):
    moved = ContentType.objects.get(app_label="indicators", model="assessment")
    new_id = ContentType.objects.order_by("-pk").values_list("pk", flat=True).first() + 100
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_content_type SET id = %s WHERE id = %s", [new_id, moved.pk])
        cursor.execute(
            "UPDATE auth_permission SET content_type_id = %s WHERE content_type_id = %s",
            [new_id, moved.pk],
        )
    ContentType.objects.clear_cache()

    _Session.demo.restore(empty=_Session.tables)

    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys hold now
    analyses = AuditEntry.objects.filter(changes__has_key="analysis")
    assert analyses.count() == 25
    assert set(analyses.values_list("content_type_id", flat=True)) == {new_id}
