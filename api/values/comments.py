"""/api/v1/cell-comments/: the managers' comments on report cells.

Readers get the published ones; a user who may write an org unit's values also gets its
drafts. Writes go through indicators.comments (the form's and the admin's path too).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.base import DeletableViewSet
from api.organisation.filters import CharListFilter, CodeListFilter, OrgUnitFilter, subtree_filter
from api.organisation.serializers import CodeField
from api.values.filters import PeriodFilterSet
from api.values.serializers import CellKeySerializer
from audit.models import Source
from divisions.access import writable_paths
from indicators import comments
from indicators.models import CELL_COMMENT_MAX, CellComment, CommentState, Indicator


class CellCommentFilterSet(PeriodFilterSet):
    indicator = CodeListFilter(model=Indicator, field_name="indicator", label=_("Styrmått"))
    org_unit = OrgUnitFilter(field_name="org_unit", label=_("Organisationsenhet"))
    subtree = subtree_filter()
    breakdown = CharListFilter(field_name="breakdown", label=_("Uppdelning"))
    state = django_filters.ChoiceFilter(choices=CommentState.choices, label=_("Läge"))

    class Meta:
        model = CellComment
        fields = ["indicator", "org_unit", "subtree", "breakdown", "state"]


class CellCommentSerializer(CellKeySerializer):
    text = serializers.CharField(
        max_length=CELL_COMMENT_MAX,
        help_text="Plain text; control characters are removed. DELETE removes a comment.",
    )
    state = serializers.ChoiceField(
        choices=CommentState.choices,
        default=CommentState.PUBLISHED,
        help_text="draft: seen only by those who may write the unit; published: by every "
        "reader, in the report's page, XLSX and document.",
    )
    author = CodeField("username", read_only=True, allow_null=True)

    class Meta:
        model = CellComment
        fields = [
            "id",
            "indicator",
            "org_unit",
            "period",
            "breakdown",
            "text",
            "state",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators = []  # the cell is an upsert key, not a conflict


class CellCommentViewSet(DeletableViewSet):
    """Cell comments: a manager's note on one value of the report (indicator, org unit,
    period, breakdown), shown as a numbered footnote under the report's table, as a cell
    comment in its XLSX file and as a footnote of the document.

    POST sets the comment of its cell (201 when new, 200 when replaced). PATCH changes text
    or state; DELETE removes it. Refused (403) on a closed period and outside the org units the user
    may write. Filters: `indicator`, `org_unit` (+ `subtree`), `period`, `period_from`,
    `period_to`, `period_kind`, `breakdown`, `state`.
    """

    queryset = CellComment.objects.select_related("indicator", "org_unit", "author").order_by("id")
    serializer_class = CellCommentSerializer
    filterset_class = CellCommentFilterSet
    export_name = "cell_comments"
    upsert = True

    def get_queryset(self):
        queryset = super().get_queryset()
        drafts = Q()
        for prefix in writable_paths(self.request.user):
            drafts |= Q(org_unit__path__startswith=prefix)
        visible = Q(state=CommentState.PUBLISHED)
        if drafts:
            visible |= drafts
        return queryset.filter(visible)

    def _write(self, data: dict, instance: CellComment | None = None) -> CellComment:
        source = data if instance is None else instance
        key = {name: _get(source, name) for name in CellCommentSerializer.key_fields}
        text = data.get("text", instance.text if instance else "")
        if not comments.clean_text(text):  # empty text would remove it: that is DELETE
            raise serializers.ValidationError({"text": [_("Skriv en kommentar.")]})
        return comments.save_comment(
            user=self.request.user,
            source=Source.API,
            remote_addr=self.request.META.get("REMOTE_ADDR"),
            text=text,
            state=data.get("state", instance.state if instance else CommentState.PUBLISHED),
            **key,
        )

    def create_object(self, data):
        existed = CellComment.objects.filter(
            **{name: data[name] for name in CellCommentSerializer.key_fields}
        ).exists()
        return self._write(data), not existed

    def update_object(self, instance, data):
        return self._write(data, instance)

    def delete_object(self, instance):
        comments.delete_comment(
            user=self.request.user,
            comment=instance,
            source=Source.API,
            remote_addr=self.request.META.get("REMOTE_ADDR"),
        )


def _get(source, name: str):
    return source[name] if isinstance(source, dict) else getattr(source, name)
