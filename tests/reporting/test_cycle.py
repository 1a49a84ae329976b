"""The reporting cycle: the completeness rule, the board, deadlines, and the action plan a
closed period freezes."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from rest_framework.test import APIClient

from accounts.services import create_token
from audit.models import AuditEntry
from audit.services import Actor
from dashboard import freezing
from dashboard.selectors.completeness import completeness
from domain.completeness import Gap, GapKind, IndicatorFacts, gap_counts, report_gaps
from indicators import editing as indicator_editing
from scorecard import deadlines
from scorecard import editing as scorecard_editing
from scorecard.closing import PeriodClosed
from scorecard.models import Action, FrozenReport, ReportingDeadline
from tests.reporting.cycle_world import PERIOD, build_world

# --------------------------------------------------------------------------- the rule


def test_the_rule_names_each_gap_once_by_kind():
    facts = [
        IndicatorFacts("red", "p1", "not_fulfilled", has_value=True),
        IndicatorFacts("red_done", "p1", "not_fulfilled", True, True, True, True),
        IndicatorFacts("yellow", "p2", "partly", has_value=True, has_open_action=False),
        IndicatorFacts("none", "p2", "not_assessed", has_value=False),
        IndicatorFacts("annual", "p2", "not_due", due=False, has_value=False),
        IndicatorFacts("summed", "p1", "not_assessed", has_value=True, missing_units=("u1", "u2")),
    ]
    gaps = report_gaps(facts, assessed_perspectives={"p1"})
    assert gaps == [
        Gap(GapKind.VALUE, "none"),
        Gap(GapKind.VALUE, "summed", "u1"),
        Gap(GapKind.VALUE, "summed", "u2"),
        Gap(GapKind.ANALYSIS, "red"),
        Gap(GapKind.ANALYSIS, "yellow"),
        Gap(GapKind.PERSPECTIVE, "p2"),
        Gap(GapKind.ACTION, "red"),
    ]
    assert gap_counts(gaps) == {"value": 3, "analysis": 2, "perspective": 1, "action": 1}
    assert report_gaps([], ()) == []


# --------------------------------------------------------------------------- the board


@pytest.fixture
def world(db):
    return build_world()


def kinds(board) -> list[tuple[str, str, str]]:
    return [
        (gap.kind, gap.org_unit.code, gap.indicator.code if gap.indicator else gap.perspective.code)
        for gap in board.gaps
    ]


def test_the_board_lists_what_the_report_lacks_until_the_manager_fills_it(world):
    board = completeness(world.alfa, PERIOD)
    assert kinds(board) == [
        ("value", "alfa_soder", "besok"),
        ("analysis", "div_alfa", "vantetid"),
        ("analysis", "div_alfa", "nojdhet"),
        ("perspective", "div_alfa", "samhalle"),
        ("perspective", "div_alfa", "medarbetare"),
        ("action", "div_alfa", "vantetid"),
    ]
    assert board.counts == {"value": 1, "analysis": 2, "perspective": 2, "action": 1}
    assert board.indicators == 3 and not board.complete
    assert completeness(world.beta, PERIOD).complete

    chef, alfa = world.chef, world.alfa
    indicator_editing.set_measurement(
        user=chef, indicator=world.indicators["besok"], org_unit=world.soder, period=PERIOD,
        value=80,
    )  # fmt: skip
    for code in ("vantetid", "nojdhet"):
        indicator_editing.annotate_indicator(
            user=chef, indicator=world.indicators[code], org_unit=alfa, period=PERIOD,
            analysis="Bemanningen under sommaren.",
        )  # fmt: skip
    for perspective in world.perspectives.values():
        scorecard_editing.set_perspective_assessment(
            user=chef, org_unit=alfa, perspective=perspective, period=PERIOD, status="partly"
        )
    # A done action, or one of another period's plan, does not address the red indicator.
    done = scorecard_editing.create_action(
        user=chef, org_unit=alfa, perspective=world.perspectives["samhalle"], goal="Mål",
        description="Klar", status="done", period=PERIOD, indicators=[world.indicators["vantetid"]],
    )  # fmt: skip
    scorecard_editing.create_action(
        user=chef, org_unit=alfa, perspective=world.perspectives["samhalle"], goal="Mål",
        description="T1", status="ongoing", period="2022-T1",
        indicators=[world.indicators["vantetid"]],
    )  # fmt: skip
    assert kinds(completeness(alfa, PERIOD)) == [("action", "div_alfa", "vantetid")]
    scorecard_editing.update_action(user=chef, action=done, status="ongoing")
    board = completeness(alfa, PERIOD)
    assert board.complete and board.missing == 0


def test_the_board_page_links_each_gap_to_its_form_for_those_who_fill_it(world, client):
    client.force_login(world.chef)
    response = client.get(f"/rapportera/div_alfa/{PERIOD}/status/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-complete="false"' in html and "6 saker saknas." in html
    assert f"/rapportera/alfa_soder/{PERIOD}/styrmatt/besok/" in html
    assert f"/rapportera/div_alfa/{PERIOD}/styrmatt/vantetid/#id_analysis" in html
    assert f"/rapportera/div_alfa/{PERIOD}/perspektiv/medarbetare/" in html
    assert f"/rapportera/div_alfa/{PERIOD}/atgarder/ny/?indicator=vantetid" in html
    # A board member reads the board, without the links to the forms.
    client.force_login(world.beta_chef)
    html = client.get(f"/rapportera/div_alfa/{PERIOD}/status/").content.decode()
    assert "6 saker saknas." in html and "/atgarder/ny/" not in html
    html = client.get(f"/rapportera/div_beta/{PERIOD}/status/").content.decode()
    assert 'data-complete="true"' in html and "Komplett:" in html
    assert client.get("/rapportera/div_alfa/2022-T9/status/").status_code == 404


def test_the_new_action_form_starts_from_the_indicator_the_board_links(world, client):
    client.force_login(world.chef)
    url = f"/rapportera/div_alfa/{PERIOD}/atgarder/ny/"
    form = client.get(url + "?indicator=vantetid").context["form"]
    assert [i.code for i in form.initial["indicators"]] == ["vantetid"]
    assert form.initial["perspective"].code == "samhalle"
    response = client.post(
        url,
        {
            "perspective": world.perspectives["samhalle"].pk,
            "goal": "Fler besök inom vårdgarantin",
            "description": "Extra mottagning på lördagar",
            "status": "ongoing",
            "indicators": [world.indicators["vantetid"].pk],
        },
    )
    assert response.status_code == 302
    action = Action.objects.get()
    assert action.period == PERIOD and list(action.indicators.all()) == [
        world.indicators["vantetid"]
    ]
    entry = AuditEntry.objects.filter(object_id=str(action.pk)).get()
    assert entry.changes["indicators"] == [None, ["vantetid"]]
    assert completeness(world.alfa, PERIOD).counts["action"] == 0


# --------------------------------------------------------------------------- freezing


def test_a_closed_period_freezes_its_action_plan(world, client):
    samhalle = world.perspectives["samhalle"]
    vantetid = world.indicators["vantetid"]
    action = scorecard_editing.create_action(
        user=world.chef, org_unit=world.alfa, perspective=samhalle, goal="Mål T2",
        description="Lördagsmottagning", status="ongoing", period=PERIOD, indicators=[vantetid],
    )  # fmt: skip
    later = scorecard_editing.create_action(
        user=world.chef, org_unit=world.alfa, perspective=samhalle, goal="Mål T3",
        description="Kvällsmottagning", status="not_started", period="2022-T3",
    )  # fmt: skip
    freezing.close_report(actor=Actor(world.admin), org_unit=world.alfa, period=PERIOD)
    frozen = FrozenReport.objects.get(org_unit=world.alfa).content["actions"]
    # The plan of T2 only, with what each action addresses.
    assert [(a["description"], a["period"], a["indicators"]) for a in frozen] == [
        (
            "Lördagsmottagning",
            PERIOD,
            [{"code": "vantetid", "name": "Andel besök inom vårdgarantin"}],
        )
    ]
    with pytest.raises(PeriodClosed):
        scorecard_editing.update_action(user=world.chef, action=action, status="done")
    with pytest.raises(PeriodClosed):
        scorecard_editing.delete_action(user=world.chef, action=action)
    with pytest.raises(PeriodClosed):
        scorecard_editing.create_action(
            user=world.chef, org_unit=world.alfa, perspective=samhalle, goal="x",
            description="x", period=PERIOD,
        )  # fmt: skip
    # The next period's plan stays open.
    scorecard_editing.update_action(user=world.chef, action=later, status="ongoing")
    client.force_login(world.chef)
    assert client.get(f"/rapportera/div_alfa/{PERIOD}/atgarder/{action.pk}/").status_code == 403
    assert client.get(f"/rapportera/div_alfa/2022-T3/atgarder/{later.pk}/").status_code == 200
    html = client.get(f"/rapportera/div_alfa/{PERIOD}/").content.decode()
    assert "Lördagsmottagning" in html and "Kvällsmottagning" not in html
    assert f"/atgarder/{action.pk}/" not in html  # no edit link on a frozen plan
    assert completeness(world.alfa, PERIOD).closed


# --------------------------------------------------------------------------- deadlines


def test_only_an_administrator_sets_a_deadline_and_it_is_audited(world, client):
    with pytest.raises(PermissionDenied):
        deadlines.set_deadline(
            actor=Actor(world.chef), period=PERIOD, due_date=datetime.date(2022, 9, 15)
        )
    client.force_login(world.chef)
    assert client.get("/rapportera/tidsfrister/").status_code == 403
    assert client.get(f"/rapportera/oversikt/{PERIOD}/").status_code == 403
    client.force_login(world.admin)
    bad = client.post(
        "/rapportera/tidsfrister/",
        {"period": "2022-T7", "due_date": "2022-09-15", "remind_days_before": "5"},
    )
    assert bad.status_code == 400 and "Ange en period" in bad.content.decode()
    ok = client.post(
        "/rapportera/tidsfrister/",
        {"period": "2022-T2", "due_date": "2022-09-15", "remind_days_before": "5"},
    )
    assert ok.status_code == 302
    deadline = ReportingDeadline.objects.get()
    assert (deadline.period, deadline.due_date, deadline.remind_days_before) == (
        PERIOD,
        datetime.date(2022, 9, 15),
        5,
    )
    assert deadline.set_by == world.admin
    # Moved: the same row, and the trail has both.
    client.post(
        "/rapportera/tidsfrister/",
        {"period": "2022-T2", "due_date": "2022-09-20", "remind_days_before": "5"},
    )
    assert ReportingDeadline.objects.get().due_date == datetime.date(2022, 9, 20)
    changes = [
        e.changes.get("due_date")
        for e in AuditEntry.objects.filter(object_id=str(deadline.pk)).order_by("pk")
    ]
    assert changes == [[None, "2022-09-15"], ["2022-09-15", "2022-09-20"]]
    overview = client.get(f"/rapportera/oversikt/{PERIOD}/").content.decode()
    assert "1 av 2 divisioner är kompletta." in overview
    assert "20 september 2022" in overview


def test_the_api_writes_an_actions_period_and_indicators_and_refuses_a_frozen_one(world):
    _token, key = create_token(user=world.chef, name="t")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = {
        "org_unit": "div_alfa",
        "perspective": "samhalle",
        "goal": "Fler besök inom vårdgarantin",
        "description": "Lördagsmottagning",
        "status": "ongoing",
        "period": PERIOD,
        "indicators": ["vantetid"],
    }
    created = api.post("/api/v1/actions/", body, format="json")
    assert created.status_code == 201, created.content
    assert (created.json()["period"], created.json()["indicators"]) == (PERIOD, ["vantetid"])
    assert completeness(world.alfa, PERIOD).counts["action"] == 0
    bad = api.post("/api/v1/actions/", {**body, "indicators": ["finns_inte"]}, format="json")
    assert bad.status_code == 400
    freezing.close_report(actor=Actor(world.admin), org_unit=world.alfa, period=PERIOD)
    url = f"/api/v1/actions/{created.json()['id']}/"
    assert api.patch(url, {"status": "done"}, format="json").status_code == 403
    assert api.post("/api/v1/actions/", body, format="json").status_code == 403
    assert api.get("/api/v1/actions/", {"period": PERIOD}).json()["count"] == 1


def test_the_board_and_the_overview_read_in_a_bounded_number_of_queries(
    world, client, django_assert_max_num_queries
):
    client.force_login(world.admin)
    with django_assert_max_num_queries(40):
        assert client.get(f"/rapportera/div_alfa/{PERIOD}/status/").status_code == 200
    # Per division a fixed number, whatever its gaps.
    with django_assert_max_num_queries(60):
        assert client.get(f"/rapportera/oversikt/{PERIOD}/").status_code == 200


def test_the_report_history_names_the_indicators_an_action_addresses(world, client):
    scorecard_editing.create_action(
        user=world.chef, org_unit=world.alfa, perspective=world.perspectives["samhalle"],
        goal="Mål", description="Lördagsmottagning", period=PERIOD,
        indicators=[world.indicators["vantetid"], world.indicators["besok"]],
    )  # fmt: skip
    client.force_login(world.chef)
    response = client.get(f"/historik/rapport/div_alfa/{PERIOD}/")
    assert response.status_code == 200
    [line] = [
        line
        for item in response.context["items"]
        for line in item.lines
        if line.field == "indicators"
    ]
    assert (line.label, line.after) == ("styrmått", "besok, vantetid")
