from django.urls import path

from dashboard import history as views

app_name = "history"

urlpatterns = [
    path("historik/<slug:kind>/<int:pk>/", views.object_history, name="object"),
    path("historik/rapport/<slug:org_unit>/<str:period>/", views.report_history, name="report"),
]
