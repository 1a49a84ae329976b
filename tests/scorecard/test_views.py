"""The division scorecard page, through the real HTTP client, for every demo role."""

import pytest
from django.urls import reverse

from demo.nara import DEMO_PASSWORD, DEMO_USERS

PAGE = "/styrkort/div_nara/2022-T2/"


def test_healthz_needs_no_login(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_the_browsers_own_favicon_request_is_answered_without_an_error(client, db):
    # The admin's pages name no icon; a 404 there was a console error in every browser.
    response = client.get("/favicon.ico")
    assert response.status_code == 204 and "max-age" in response["Cache-Control"]


@pytest.mark.parametrize("path", ["/", PAGE, "/styrkort/?org_unit=div_nara&period=2022-T2"])
def test_anonymous_users_are_sent_to_the_login_page(client, demo, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_swedish_by_default(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Logga in" in response.text and 'lang="sv"' in response.text


# A division manager lands on their division; everyone else on the region overview.
LANDINGS = {"chef.nara": PAGE}


@pytest.mark.parametrize("username", [user.username for user in DEMO_USERS])
def test_every_demo_role_logs_in_and_sees_the_nara_scorecard(client, demo, username):
    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    landing = client.get(response["Location"], follow=True)
    assert landing.redirect_chain[-1][0] == LANDINGS.get(username, "/oversikt/2022-T2/")
    assert landing.status_code == 200
    page = client.get(PAGE).text
    assert "Måluppfyllelse i perspektiv – Division Nära" in page
    for perspective in ("Samhälle", "Medborgare", "Verksamhet", "Medarbetare", "Ekonomi"):
        assert f"Perspektiv {perspective}" in page
    # Status as symbol and words, never colour alone; trend as arrow and words.
    symbol = '<span class="status__symbol" aria-hidden="true">○</span>'
    assert f'status--not_fulfilled">{symbol} Ej uppfyllt' in page
    assert "Delvis uppfyllt" in page and "Uppfyllt" in page
    assert '<span class="trend__symbol" aria-hidden="true">↓</span> Försämrad' in page
    # Swedish number format and the analysis comment beneath the indicator.
    assert "29\xa0191" in page
    assert "Jan-aug 2022" in page


def test_page_in_english(client, demo):
    client.login(username="ledamot", password=DEMO_PASSWORD)
    client.post(reverse("set_language"), {"language": "en", "next": PAGE})
    page = client.get(PAGE).text
    assert 'lang="en"' in page
    assert "Not fulfilled" in page and "Partly fulfilled" in page
    assert "29,191" in page


def test_the_selector_leads_to_the_chosen_unit_and_period(client, demo):
    client.login(username="ledamot", password=DEMO_PASSWORD)
    response = client.get("/styrkort/", {"org_unit": "avp_pajala", "period": "2022-t2"})
    assert response["Location"] == "/styrkort/avp_pajala/2022-T2/"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/styrkort/finns_inte/2022-T2/", 404),
        ("/styrkort/div_nara/2022-T9/", 404),
        ("/styrkort/?org_unit=finns_inte&period=2022-T2", 404),
    ],
)
def test_bad_addresses_give_404_not_500(client, demo, path, status):
    client.login(username="ledamot", password=DEMO_PASSWORD)
    assert client.get(path).status_code == status


def test_page_query_count_does_not_grow_with_the_scorecard(
    client, demo, django_assert_max_num_queries
):
    client.login(username="ledamot", password=DEMO_PASSWORD)
    # test_dashboard.py: the counts' queries, comments, Kolada, the actions' indicators
    with django_assert_max_num_queries(27):  # 26, and the data version (page_cache)
        assert client.get(PAGE).status_code == 200


def test_language_can_be_switched_before_logging_in(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302 and response["Location"] == reverse("login")
    page = client.get(reverse("login")).text
    assert 'lang="en"' in page and "Sign in" in page and "Svenska" in page


def test_an_english_browser_still_gets_swedish_until_the_user_switches(client, db):
    page = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").text
    assert 'lang="sv"' in page and "Logga in" in page


def test_a_closed_period_is_shown_as_final_on_the_division_page(client, demo):
    from django.contrib.auth import get_user_model

    from audit.services import Actor
    from divisions.models import OrgUnit
    from scorecard.closing import close_period

    admin = get_user_model().objects.get(username="admin")
    nara = OrgUnit.objects.get(code="div_nara")
    close_period(actor=Actor(user=admin), org_unit=nara, period="2022-T2")
    client.login(username="ledamot", password=DEMO_PASSWORD)
    page = client.get(PAGE).text
    assert "Slutlig rapport." in page and "Inget kan ändras förrän den öppnas igen." in page
    assert "Slutlig rapport." not in client.get("/styrkort/div_nara/2022-T1/").text
