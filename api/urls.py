"""The REST API: /api/v1/ resources, the OpenAPI schema and its browsable documentation.

Viewsets live in each app's api/ package; this router is the one place that names them.
Schema and docs are public (they describe the API, not the data) and are served from the
app's own static files (drf-spectacular-sidecar), no CDN.
"""

import importlib.util

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from api.benchmarks.views import BenchmarkValueViewSet
from api.docs import RedocView, SwaggerView
from api.organisation.views import OrgUnitViewSet
from api.reports.views import ReportView
from api.scorecards.views import PlacementViewSet, ScorecardViewSet
from api.structure.views import (
    ActionViewSet,
    PerspectiveAssessmentViewSet,
    PerspectiveViewSet,
    StrategicGoalViewSet,
    SuccessFactorViewSet,
)
from api.values.comments import CellCommentViewSet
from api.values.views import (
    AggregateViewSet,
    AssessmentViewSet,
    IndicatorViewSet,
    MeasurementViewSet,
)

router = DefaultRouter()
router.include_root_view = False
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("perspectives", PerspectiveViewSet, basename="perspective")
router.register("strategic-goals", StrategicGoalViewSet, basename="strategic-goal")
router.register("scorecards", ScorecardViewSet, basename="scorecard")
router.register("success-factors", SuccessFactorViewSet, basename="success-factor")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("placements", PlacementViewSet, basename="placement")
router.register("measurements", MeasurementViewSet, basename="measurement")
router.register("aggregates", AggregateViewSet, basename="aggregate")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register(
    "perspective-assessments", PerspectiveAssessmentViewSet, basename="perspective-assessment"
)
router.register("actions", ActionViewSet, basename="action")
router.register("benchmarks", BenchmarkValueViewSet, basename="benchmark")
router.register("cell-comments", CellCommentViewSet, basename="cell-comment")

# Written by the import pipeline; registered as soon as the module exists.
if importlib.util.find_spec("api.values.imports") is not None:
    from api.values.imports import ImportViewSet

    router.register("imports", ImportViewSet, basename="import")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/reports/<str:org_unit>/<str:period>/", ReportView.as_view(), name="api-report"),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path(
        "docs/",
        login_not_required(SwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path(
        "redoc/",
        login_not_required(RedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
]
