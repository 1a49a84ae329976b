from django.urls import path

from . import views

app_name = "scorecard"

urlpatterns = [
    path("", views.home, name="home"),
    path("styrkort/", views.choose, name="choose"),
    path("styrkort/<slug:org_unit>/<str:period>/", views.division_scorecard, name="division"),
]
