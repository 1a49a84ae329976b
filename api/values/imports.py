"""/api/v1/imports/: send a measurement file (multipart), follow its import, list history.

POST answers 202 Accepted with the import's id and URL at once; the file is processed by a
Celery worker. The same file sent again is a 409, unless `reason` says why it is imported
again on purpose (kept in the audit trail). GET on the URL shows status and progress
(rows_done of rows_total) until the status is final, then the counts and the row errors
(the first 1,000 of error_count). The list shows the counts, not the errors.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from api.base import ApiMixin
from indicators.imports.queue import ImportQueueUnavailable, submit_import
from indicators.models import Import, ImportSource


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Row as a spreadsheet shows it (header = 1), 0: file.")
    column = serializers.CharField(allow_blank=True)
    message = serializers.CharField()


class ImportSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    user = serializers.CharField(source="user.username", read_only=True, allow_null=True)
    # Plain strings, not choice fields: the schema's enum names (StatusEnum...) are taken.
    status = serializers.CharField(
        read_only=True, help_text="queued, running, previewed, succeeded, failed or discarded."
    )
    source = serializers.CharField(read_only=True, help_text="upload, api, inbox or command.")
    org_unit = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="The org unit whose subtree holds every row of the file (null: none read).",
    )
    reimport_of = serializers.PrimaryKeyRelatedField(
        read_only=True,
        allow_null=True,
        help_text="Imported again on purpose: the import that held the same file.",
    )
    phase = serializers.CharField(read_only=True, help_text="reading or recomputing (running).")
    duration_seconds = serializers.SerializerMethodField()
    progress = serializers.FloatField(
        read_only=True, allow_null=True, help_text="rows_done / rows_total, 0..1 (null: unknown)."
    )
    error_count = serializers.IntegerField(
        read_only=True,
        help_text="All errors found; `errors` (on the import's URL) has the first 1,000.",
    )

    class Meta:
        model = Import
        fields = [
            "id",
            "url",
            "filename",
            "sha256",
            "size",
            "source",
            "user",
            "status",
            "phase",
            "rows_total",
            "rows_done",
            "progress",
            "created",
            "changed",
            "unchanged",
            "rejected",
            "error_count",
            "duplicate_of",
            "reimport_of",
            "reason",
            "org_unit",
            "received_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "attempts",
        ]
        read_only_fields = fields

    def get_url(self, record: Import) -> str:
        path = reverse("import-detail", args=[record.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_duration_seconds(self, record: Import) -> float | None:
        duration = record.duration
        return None if duration is None else round(duration.total_seconds(), 3)


class ImportDetailSerializer(ImportSerializer):
    """One import: with its row errors, the first 1,000 of error_count."""

    errors = ImportErrorSerializer(
        many=True, read_only=True, help_text="The first 1,000 errors, in file order."
    )

    class Meta(ImportSerializer.Meta):
        fields = [*ImportSerializer.Meta.fields, "errors"]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX in the exchange format (see README).")
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Why the file is imported again, when the same file was imported before "
        "(e.g. to roll back a later correction). Without it the same file is a 409.",
    )


class ImportViewSet(
    ApiMixin, mixins.CreateModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Import.objects.select_related("user", "org_unit").order_by("-received_at", "-pk")
    serializer_class = ImportDetailSerializer
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["status", "source"]
    export_name = "imports"

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":  # a page of up to 1,000 imports: their counts, no errors
            return queryset.defer("errors", "preview_rows")
        return queryset.defer("preview_rows")

    def get_serializer_class(self):
        return ImportSerializer if self.action == "list" else ImportDetailSerializer

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportDetailSerializer,
            409: OpenApiResponse(
                ImportDetailSerializer, description="The same file was sent before."
            ),
            503: OpenApiResponse(
                ImportDetailSerializer,
                description="The task queue does not answer: the file is kept, its import "
                "queued, and it runs when the queue is back. Do not send it again.",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        file = upload.validated_data["file"]
        try:
            record = submit_import(
                fileobj=file,
                filename=file.name,
                user=request.user,
                source=ImportSource.API,
                reason=upload.validated_data.get("reason", ""),
                remote_addr=request.META.get("REMOTE_ADDR"),
            )
        except ImportQueueUnavailable as exc:
            detail = _(
                "Filen togs emot och är sparad, men kön svarar inte just nu. Den bearbetas "
                "automatiskt när kön svarar igen; skicka den inte igen."
            )
            data = {**self.get_serializer(exc.record).data, "detail": detail}
            return Response(data, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        data = self.get_serializer(record).data
        if record.duplicate_of_id is not None:
            message = _(
                "Samma fil har redan tagits emot (import %(id)s); den används inte igen. "
                "Skicka den med ett skäl (reason) för att importera den igen med avsikt."
            )
            data["detail"] = message % {"id": record.duplicate_of_id}
            return Response(data, status=status.HTTP_409_CONFLICT)
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})
