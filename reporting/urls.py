from django.urls import path

from . import cycle, views

app_name = "reporting"

BASE = "rapportera/<slug:org_unit>/<str:period>/"
INDICATOR = BASE + "styrmatt/<slug:indicator>/"

urlpatterns = [
    path("rapportera/", views.start, name="start"),
    # Before BASE, whose first part would take these words for an org unit's code.
    path("rapportera/tidsfrister/", cycle.deadline_list, name="deadlines"),
    path("rapportera/tidsfrister/<int:pk>/ta-bort/", cycle.deadline_remove, name="deadline_remove"),
    path("rapportera/oversikt/<str:period>/", cycle.overview, name="overview"),
    path(BASE, views.report, name="report"),
    path(INDICATOR, views.indicator_page, name="indicator"),
    path(INDICATOR + "utfall/<slug:breakdown>/", views.set_value, name="value"),
    path(INDICATOR + "analys/", views.set_analysis, name="analysis"),
    path(INDICATOR + "kommentar/<slug:breakdown>/", views.cell_comment, name="comment"),
    path(INDICATOR + "bedomning/", views.override_status, name="override"),
    path(BASE + "perspektiv/<slug:perspective>/", views.perspective_assessment, name="perspective"),
    path(BASE + "atgarder/ny/", views.action_form, name="action_new"),
    path(BASE + "atgarder/<int:pk>/", views.action_form, name="action"),
    path(BASE + "status/", cycle.board, name="board"),
    path(BASE + "stang/", views.close_period, name="close"),
    path(BASE + "oppna/", views.reopen_period, name="reopen"),
]
