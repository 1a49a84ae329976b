from django.urls import path

from . import views

app_name = "indicators"

# The API (/api/v1/imports/) is registered in config/api_urls.py: api.values.imports.
urlpatterns = [
    path("importer/", views.import_list, name="imports"),
    path("importer/<int:pk>/", views.import_detail, name="import"),
    path("importer/<int:pk>/status/", views.import_progress, name="import-progress"),
    path("importer/<int:pk>/godkann/", views.import_apply, name="import-apply"),
    path("importer/<int:pk>/forkasta/", views.import_discard, name="import-discard"),
    path("importer/<int:pk>/fil/", views.import_file, name="import-file"),
    path("importer/<int:pk>/igen/", views.import_again_view, name="import-again"),
]
