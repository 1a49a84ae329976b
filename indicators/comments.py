"""Writes of cell comments: the one path for the form, the API and the admin.

A cell comment is a manager's note on one cell of the report (indicator x org unit x period
x breakdown). Whoever may write the unit's values may write its comments
(divisions.access); a closed period refuses them as it refuses values
(scorecard.closing.ensure_open); every change is in the audit trail.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import Source
from audit.services import Actor, record_change, record_deletion
from divisions.access import ensure_can_write
from divisions.models import OrgUnit
from scorecard.closing import ensure_open

from .editing import check_placed, writable_period
from .messages import translated
from .models import CELL_COMMENT_MAX, CellComment, CommentState, Indicator

COMMENT_FIELDS = ("text", "state")
# Control characters other than tab and line feed: XML (the XLSX file, the document)
# cannot hold them and no one types them on purpose. Removed rather than refused, as text
# pasted from Word carries them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def clean_text(text: str) -> str:
    """The text as stored: CRLF as LF, without control characters, trimmed."""
    return _CONTROL.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n")).strip()


def _values(comment: CellComment) -> dict[str, str]:
    return {name: getattr(comment, name) for name in COMMENT_FIELDS}


def _check_cell(indicator: Indicator, org_unit: OrgUnit, period: str, breakdown: str) -> None:
    if breakdown not in indicator.breakdowns:
        raise ValidationError(
            {
                "breakdown": translated(
                    "not_a_breakdown",
                    {
                        "breakdown": breakdown,
                        "indicator": indicator.code,
                        "declared": ", ".join(indicator.breakdowns),
                    },
                    "",
                )
            }
        )
    check_placed(indicator, org_unit, period)


@transaction.atomic
def save_comment(
    *,
    user,
    indicator: Indicator,
    org_unit: OrgUnit,
    period: str,
    breakdown: str = "total",
    text: str,
    state: str = CommentState.PUBLISHED,
    source: str = Source.FORM,
    remote_addr: str | None = None,
) -> CellComment | None:
    """Create or change the comment of one cell; empty text removes it (returns None).

    The author is whoever saved it last. Saving what is stored changes nothing.
    """
    period = writable_period(user, org_unit, period)
    if state not in CommentState.values:
        raise ValidationError({"state": _("Okänt läge: %(state)s.") % {"state": state}})
    text = clean_text(text)
    if len(text) > CELL_COMMENT_MAX:
        raise ValidationError(
            {
                "text": _("Kommentaren får vara högst %(max)s tecken (den har %(length)s).")
                % {"max": CELL_COMMENT_MAX, "length": len(text)}
            }
        )
    key = {"indicator": indicator, "org_unit": org_unit, "period": period, "breakdown": breakdown}
    actor = Actor(user, source, remote_addr)
    current = CellComment.objects.select_for_update().filter(**key).first()
    if not text:
        if current is not None:
            record_deletion(actor=actor, obj=current)
            current.delete()
        return None
    now = timezone.now()
    if current is None:
        _check_cell(indicator, org_unit, period, breakdown)
        try:
            with transaction.atomic():
                created = CellComment.objects.create(
                    **key, text=text, state=state, author=user, created_at=now, updated_at=now
                )
        except IntegrityError:  # another request created the same cell a moment ago
            current = CellComment.objects.select_for_update().get(**key)
        else:
            record_change(actor=actor, obj=created, before=None, after=_values(created))
            return created
    if current.text == text and current.state == state:
        return current
    before = _values(current)
    current.text, current.state = text, state
    current.author, current.updated_at = user, now
    current.save(update_fields=["text", "state", "author", "updated_at"])
    record_change(actor=actor, obj=current, before=before, after=_values(current))
    return current


@transaction.atomic
def delete_comment(
    *, user, comment: CellComment, source: str = Source.FORM, remote_addr: str | None = None
) -> None:
    """Remove a cell's comment (the trail keeps what it said)."""
    ensure_can_write(user, comment.org_unit)
    ensure_open(comment.org_unit, comment.period)
    current = CellComment.objects.select_for_update().filter(pk=comment.pk).first()
    if current is None:
        return
    record_deletion(actor=Actor(user, source, remote_addr), obj=current)
    current.delete()
