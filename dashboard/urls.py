from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("oversikt/", views.overview_latest, name="overview_latest"),
    path("oversikt/valj/", views.choose_overview, name="choose_overview"),
    path("oversikt/<str:period>/", views.overview, name="overview"),
    path("styrkort/", views.choose, name="choose"),
    path("styrkort/<slug:org_unit>/<str:period>/", views.division_scorecard, name="division"),
    path("styrkort/<slug:org_unit>/<str:period>/utskrift/", views.division_print, name="print"),
    path("styrkort/<slug:org_unit>/<str:period>/rapport.pdf", views.division_pdf, name="pdf"),
    path("styrkort/<slug:org_unit>/<str:period>/styrkort.xlsx", views.division_xlsx, name="xlsx"),
    # The tertial report as a document (dashboard.documents): Word, and tagged PDF.
    path("styrkort/<slug:org_unit>/<str:period>/rapport.docx", views.division_docx, name="docx"),
    path(
        "styrkort/<slug:org_unit>/<str:period>/tertialrapport.pdf",
        views.division_document_pdf,
        name="document_pdf",
    ),
    path(
        "styrmatt/<slug:code>/<slug:org_unit>/<str:period>/",
        views.indicator_detail,
        name="indicator",
    ),
    path("over-tid/", views.over_time_region, name="over_time_region"),
    path("over-tid/<slug:org_unit>/<slug:kind>/", views.over_time, name="over_time"),
]
