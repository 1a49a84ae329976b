"""Cell comments' one write path: who may, closed periods, the audit trail, the draft from
the previous period, and text that must stay text."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry, Operation, Source
from audit.services import Actor
from divisions.models import OrgUnit
from domain.periods import Period
from indicators.comments import clean_text, delete_comment, save_comment
from indicators.models import CELL_COMMENT_MAX, CellComment, CommentState, Indicator
from indicators.selectors import comment_for_editing
from scorecard import closing
from tests.cast import INSIDE, OUTSIDE, PERIOD

SPLIT = "vald_nara_relation"  # women and men


def unit(code: str) -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def indicator(code: str = SPLIT) -> Indicator:
    return Indicator.objects.get(code=code)


def write(user, *, code: str = "div_nara", period: str = PERIOD, breakdown="women", **extra):
    extra.setdefault("text", "Nytt journalsystem under våren.")
    return save_comment(
        user=user,
        indicator=indicator(),
        org_unit=unit(code),
        period=period,
        breakdown=breakdown,
        **extra,
    )


def entries() -> list[tuple[str, dict]]:
    return list(
        AuditEntry.objects.filter(content_type__model="cellcomment")
        .order_by("pk")
        .values_list("operation", "changes")
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [("2022-T2", "2022-T1"), ("2022-T1", "2021-T3"), ("2022-01", "2021-12"), ("2022", "2021")],
)
def test_the_previous_period_is_of_the_same_kind(code, expected):
    assert Period.parse(code).previous().code == expected


def test_a_manager_writes_publishes_and_removes_with_every_step_recorded(cast):
    manager = cast["manager"]
    comment = write(manager, state=CommentState.DRAFT)
    assert (comment.text, comment.state, comment.author) == (
        "Nytt journalsystem under våren.",
        "draft",
        manager,
    )
    same = write(manager, state=CommentState.DRAFT)  # saving what is stored: no entry
    assert same.pk == comment.pk
    write(manager, state=CommentState.PUBLISHED)
    write(manager, text="")  # empty text removes it
    assert not CellComment.objects.exists()
    assert entries() == [
        (Operation.CREATE, {"state": [None, "draft"], "text": [None, comment.text]}),
        (Operation.UPDATE, {"state": ["draft", "published"]}),
        (Operation.DELETE, entries()[2][1]),
    ]
    removed = entries()[2][1]
    assert removed["text"] == [comment.text, None] and removed["breakdown"] == ["women", None]
    entry = AuditEntry.objects.filter(content_type__model="cellcomment").first()
    assert (entry.username, entry.source, entry.org_unit.code, entry.period) == (
        "manager",
        Source.FORM,
        "div_nara",
        PERIOD,
    )


@pytest.mark.parametrize(
    ("role", "code", "allowed"),
    [
        ("admin", "div_nara", True),
        ("manager", INSIDE, True),
        ("reporter", INSIDE, True),
        ("reporter", "div_nara", False),  # above the reporter's area
        ("board", INSIDE, False),
        ("analyst", INSIDE, False),
        ("outsider", INSIDE, False),
    ],
)
def test_comments_are_written_by_those_who_write_the_units_values(cast, role, code, allowed):
    if allowed:
        assert write(cast[role], code=code).org_unit.code == code
        return
    with pytest.raises(PermissionDenied):
        write(cast[role], code=code)
    assert not CellComment.objects.exists() and entries() == []


def test_the_outsider_writes_in_their_own_division(cast):
    assert write(cast["outsider"], code=OUTSIDE).org_unit.code == OUTSIDE


def test_a_closed_period_refuses_writing_changing_and_removing(cast):
    manager = cast["manager"]
    comment = write(manager)
    closing.close_period(actor=Actor(cast["admin"]), org_unit=unit("div_nara"), period=PERIOD)
    for attempt in (
        lambda: write(manager, text="Ändrad efter stängning"),
        lambda: write(manager, text=""),
        lambda: write(manager, code=INSIDE),  # a unit under the closed division
        lambda: delete_comment(user=cast["admin"], comment=comment),
    ):
        with pytest.raises(closing.PeriodClosed):
            attempt()
    assert list(CellComment.objects.values_list("text", flat=True)) == [comment.text]
    write(manager, period="2022-T1")  # another period stays open
    assert CellComment.objects.count() == 2


def test_a_cell_must_exist_on_the_scorecard(cast):
    with pytest.raises(ValidationError) as refused:
        write(cast["manager"], breakdown="total")  # the indicator has women and men only
    assert "breakdown" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        write(cast["manager"], period="2022-T4")
    assert "period" in refused.value.message_dict
    assert not CellComment.objects.exists()


def test_hostile_text_is_cleaned_and_bounded(cast):
    manager = cast["manager"]
    comment = write(manager, text='  =HYPERLINK("http://x")\x00\x07\r\nrad två\x0b \x1f ')
    # Control characters go, the line break stays, the formula start is text (exports type it).
    assert comment.text == '=HYPERLINK("http://x")\nrad två'
    assert clean_text("a\tb") == "a\tb"
    with pytest.raises(ValidationError) as refused:
        write(manager, text="x" * (CELL_COMMENT_MAX + 1))
    assert "2000" in refused.value.message_dict["text"][0]
    assert len(write(manager, text="y" * CELL_COMMENT_MAX).text) == CELL_COMMENT_MAX
    with pytest.raises(ValidationError):
        write(manager, state="secret")


def test_the_form_starts_from_the_previous_periods_published_comment(cast):
    manager = cast["manager"]
    write(manager, period="2022-T1", text="Kampanj i mars.", state=CommentState.PUBLISHED)
    write(manager, period="2022-T1", breakdown="men", text="Utkast", state=CommentState.DRAFT)
    draft = comment_for_editing(indicator(), unit("div_nara"), PERIOD, "women")
    assert (draft.comment, draft.text, draft.from_period, draft.prefilled) == (
        None,
        "Kampanj i mars.",
        "2022-T1",
        True,
    )
    # Offered, not stored: readers and exports see nothing for T2 until it is saved.
    assert not CellComment.objects.filter(period=PERIOD).exists()
    # A draft of the previous period is not offered; nor is anything two periods back.
    assert comment_for_editing(indicator(), unit("div_nara"), PERIOD, "men").text == ""
    assert comment_for_editing(indicator(), unit("div_nara"), "2022-T3", "women").text == ""
    # Once the cell has its own comment, the form shows that one.
    write(manager, text="Egen text", state=CommentState.DRAFT)
    own = comment_for_editing(indicator(), unit("div_nara"), PERIOD, "women")
    assert (own.text, own.prefilled, own.comment.state) == ("Egen text", False, "draft")


def test_the_admin_saves_through_the_write_path(client, cast):
    client.force_login(cast["admin"])
    form = {
        "indicator": indicator().pk,
        "org_unit": unit("div_nara").pk,
        "period": PERIOD,
        "breakdown": "men",
        "text": "Från administrationen\x07",
        "state": "published",
    }
    response = client.post("/admin/indicators/cellcomment/add/", form)
    assert response.status_code == 302, response.content
    saved = CellComment.objects.get()
    assert (saved.text, saved.author) == ("Från administrationen", cast["admin"])
    assert AuditEntry.objects.get(content_type__model="cellcomment").source == Source.ADMIN
    closing.close_period(actor=Actor(cast["admin"]), org_unit=unit("div_nara"), period=PERIOD)
    change = f"/admin/indicators/cellcomment/{saved.pk}/change/"
    assert client.post(change, {**form, "text": "Efteråt"}).status_code == 403
    assert CellComment.objects.get().text == "Från administrationen"
