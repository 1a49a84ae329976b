"""Scorecards and placements as resources, and the `scorecard`/`year` filters.

Beside Nära's 2022 scorecard: Division Annan's 2022 scorecard, which places three of Nära's
indicators under its own success factors (one of them in another perspective, one code
shared with Nära's), and Nära's 2023 scorecard, which drops one indicator, renames one and
raises a target.
"""

from __future__ import annotations

import copy

import pytest

from demo.nara import DATA_DIR as NARA
from indicators.definitions import load_scorecard, read_definition
from indicators.models import Assessment, Placement, Target
from scorecard.models import Scorecard, SuccessFactor

BASE = "/api/v1"


def rows(api, path: str) -> list[dict]:
    found, url = [], f"{BASE}/{path}"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        found.extend(body["results"])
        url = body["next"]
    return found


def nara_definition() -> dict:
    return read_definition((NARA / "scorecard.yaml").read_text(encoding="utf-8"))


def annan_definition() -> dict:
    definition = nara_definition()
    definition.update(
        year=2022,
        owner="div_annan",
        name="Division Annan 2022",
        org_units=[u for u in definition["org_units"] if u["kind"] == "region"],
        success_factors=[
            # Nära has a factor with this code too, under the same goal: the same code on
            # two scorecards is two success factors.
            {
                "code": "sf_hallbar_arbetsmiljo",
                "strategic_goal": "hallbar_kompetensforsorjning",
                "name": "Friska medarbetare i Annan",
            },
            {
                "code": "sf_annan_ekonomi",
                "strategic_goal": "langsiktigt_hallbar_ekonomi",
                "name": "Ekonomi och frånvaro i balans",
            },
            {
                "code": "sf_annan_tillganglighet",
                "strategic_goal": "trygg_norrbottning",
                "name": "Svar samma dag",
            },
        ],
    )
    by_code = {i["code"]: i for i in definition["indicators"]}
    definition["indicators"] = [
        # Medarbetare on Nära's scorecard, Ekonomi on Annan's.
        {**by_code["sjukfranvaro"], "success_factor": "sf_annan_ekonomi", "name": "Frånvaro"},
        {**by_code["resultat_mot_budget"], "success_factor": "sf_annan_ekonomi"},
        {
            **by_code["telefon_teleq"],
            "success_factor": "sf_annan_tillganglighet",
            "name": "Besvarade samtal",
            "target_text": "90%",
            "target": {"kind": "at_least", "value": 90},
        },
        {**by_code["fhv_insatser"], "success_factor": "sf_hallbar_arbetsmiljo"},
    ]
    return definition


def nara_2023_definition() -> dict:
    definition = copy.deepcopy(nara_definition())
    definition["year"] = 2023
    indicators = []
    for entry in definition["indicators"]:
        if entry["code"] == "nya_filialer":
            continue  # dropped in 2023
        if entry["code"] == "besok_filialer":
            entry = {**entry, "name": "Besök på filialerna (2023)"}
        if entry["code"] == "telefon_teleq":
            entry = {**entry, "target_text": "97%", "target": {"kind": "at_least", "value": 97}}
        indicators.append(entry)
    definition["indicators"] = indicators
    return definition


@pytest.fixture
def region(nara, second_division) -> dict[str, Scorecard]:
    load_scorecard(definition=annan_definition())
    load_scorecard(definition=nara_2023_definition())
    return {
        "nara_2022": Scorecard.objects.get(org_unit__code="div_nara", year=2022),
        "nara_2023": Scorecard.objects.get(org_unit__code="div_nara", year=2023),
        "annan_2022": Scorecard.objects.get(org_unit__code="div_annan", year=2022),
    }


def ids(items: list[dict]) -> set[int]:
    return {item["id"] for item in items}


# --- scorecards -----------------------------------------------------------------------------


def test_scorecards_say_whose_which_years_and_how_many_indicators(api, region):
    found = {(s["org_unit"], s["year"]): s for s in rows(api, "scorecards/")}
    assert set(found) == {("div_nara", 2022), ("div_nara", 2023), ("div_annan", 2022)}
    assert found["div_nara", 2022]["valid_to"] == 2022  # until Nära's 2023 one starts
    assert found["div_nara", 2023]["valid_to"] is None
    assert found["div_annan", 2022]["valid_to"] is None
    for scorecard in found.values():
        placed = Placement.objects.filter(scorecard_id=scorecard["id"]).count()
        assert scorecard["placement_count"] == placed > 0
    assert found["div_annan", 2022]["placement_count"] == 4
    assert found["div_annan", 2022]["name"] == "Division Annan 2022"
    one = api.get(f"{BASE}/scorecards/{region['nara_2023'].pk}/").json()
    assert (one["org_unit"], one["year"], one["valid_to"]) == ("div_nara", 2023, None)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("org_unit=div_nara", {"nara_2022", "nara_2023"}),
        ("org_unit=region_norrbotten", set()),
        ("org_unit=region_norrbotten&subtree=true", {"nara_2022", "nara_2023", "annan_2022"}),
        ("year=2022", {"nara_2022", "annan_2022"}),
        ("year=2024", {"nara_2023", "annan_2022"}),
        # A unit's first scorecard also holds for the years before it.
        ("year=2021", {"nara_2022", "annan_2022"}),
        ("org_unit=div_nara&year=2023", {"nara_2023"}),
        # The scorecard a unit follows: its own, else the nearest above it.
        ("scorecard_of=avp_pajala", {"nara_2022", "nara_2023"}),
        ("scorecard_of=avp_pajala&year=2022", {"nara_2022"}),
        ("scorecard_of=avp_pajala,vo_annan&year=2023", {"nara_2023", "annan_2022"}),
        ("scorecard_of=region_norrbotten", set()),
    ],
)
def test_scorecard_filters(api, region, query, expected):
    assert ids(rows(api, f"scorecards/?{query}")) == {region[name].pk for name in expected}


@pytest.mark.parametrize(
    "query, field",
    [
        ("year=twenty", "year"),
        ("year=1800", "year"),
        ("year=99999999999999999999", "year"),
        ("scorecard_of=nowhere", "scorecard_of"),
        ("org_unit=nowhere", "org_unit"),
    ],
)
def test_bad_scorecard_filters_are_a_400(api, region, query, field):
    response = api.get(f"{BASE}/scorecards/?{query}")
    assert response.status_code == 400
    assert field in response.json()


# --- placements -----------------------------------------------------------------------------


def test_a_placement_is_the_indicator_as_one_scorecard_writes_it(api, region):
    annan = region["annan_2022"]
    found = rows(api, f"placements/?scorecard={annan.pk}")
    assert [p["indicator"] for p in found] == [
        "telefon_teleq",  # medborgare
        "fhv_insatser",  # medarbetare
        "sjukfranvaro",  # ekonomi, in the file's order
        "resultat_mot_budget",
    ]
    telefon = found[0]
    assert telefon["scorecard"] == annan.pk
    assert (telefon["org_unit"], telefon["year"]) == ("div_annan", 2022)
    assert telefon["name"] == "Besvarade samtal"
    assert (telefon["success_factor"], telefon["success_factor_name"]) == (
        "sf_annan_tillganglighet",
        "Svar samma dag",
    )
    assert (telefon["strategic_goal"], telefon["perspective"]) == (
        "trygg_norrbottning",
        "medborgare",
    )
    assert (telefon["unit"], telefon["direction"]) == ("percent", "increase")
    assert telefon["follow_up"] and telefon["breakdowns"] == ["total"]
    # Its targets are Annan's for 2022, not Nära's.
    assert [(t["org_unit"], t["year"], t["kind"], t["value"]) for t in telefon["targets"]] == [
        ("div_annan", 2022, "at_least", "90")
    ]
    by_scorecard = {p["scorecard"]: p for p in rows(api, "placements/?indicator=telefon_teleq")}
    assert set(by_scorecard) == {s.pk for s in region.values()}
    assert [t["value"] for t in by_scorecard[region["nara_2022"].pk]["targets"]] == ["95"]
    assert [t["value"] for t in by_scorecard[region["nara_2023"].pk]["targets"]] == ["97"]
    assert by_scorecard[region["nara_2022"].pk]["name"] != "Besvarade samtal"
    one = api.get(f"{BASE}/placements/{telefon['id']}/").json()
    assert one == telefon


def test_placement_filters(api, region):
    nara_2023 = {p["indicator"] for p in rows(api, "placements/?org_unit=div_nara&year=2023")}
    nara_2022 = {p["indicator"] for p in rows(api, "placements/?org_unit=div_nara&year=2022")}
    assert nara_2022 - nara_2023 == {"nya_filialer"}
    renamed = rows(api, "placements/?indicator=besok_filialer&org_unit=div_nara&year=2023")
    assert [p["name"] for p in renamed] == ["Besök på filialerna (2023)"]
    ekonomi = rows(api, "placements/?perspective=ekonomi&org_unit=div_annan")
    assert {p["indicator"] for p in ekonomi} == {"sjukfranvaro", "resultat_mot_budget"}
    # The code names Nära's factor and Annan's alike.
    shared = rows(api, "placements/?success_factor=sf_hallbar_arbetsmiljo&year=2022")
    assert {(p["org_unit"], p["indicator"]) for p in shared} == {
        ("div_annan", "fhv_insatser"),
        ("div_nara", "sjukfranvaro"),
        ("div_nara", "fhv_insatser"),
    }
    followed = rows(api, "placements/?scorecard_of=avp_pajala&year=2023")
    assert {p["scorecard"] for p in followed} == {region["nara_2023"].pk}
    subtree = rows(api, "placements/?org_unit=region_norrbotten&subtree=true&year=2022")
    assert {p["org_unit"] for p in subtree} == {"div_nara", "div_annan"}


def test_placements_list_in_a_fixed_number_of_queries(api, region, django_assert_max_num_queries):
    # Targets for the whole page come in one query, not one per placement.
    with django_assert_max_num_queries(8):
        response = api.get(f"{BASE}/placements/?page_size=1000")
    assert len(response.json()["results"]) == Placement.objects.count()


@pytest.mark.parametrize(
    "query, field",
    [
        ("scorecard=abc", "scorecard"),
        ("scorecard=999999999", "scorecard"),
        ("scorecard=-1", "scorecard"),
        ("scorecard=99999999999999999999", "scorecard"),
        ("indicator=nix", "indicator"),
        ("success_factor=nix", "success_factor"),
    ],
)
def test_bad_placement_filters_are_a_400(api, region, query, field):
    response = api.get(f"{BASE}/placements/?{query}")
    assert response.status_code == 400
    assert field in response.json()


# --- indicators, success factors and assessments ---------------------------------------------


def test_indicator_filters_go_through_one_placement(api, region):
    def codes(query: str) -> set[str]:
        return {i["code"] for i in rows(api, f"indicators/?{query}")}

    assert codes("org_unit=div_annan") == {
        "sjukfranvaro",
        "resultat_mot_budget",
        "telefon_teleq",
        "fhv_insatser",
    }
    assert codes(f"scorecard={region['annan_2022'].pk}") == codes("org_unit=div_annan")
    # sjukfranvaro is under Ekonomi on Annan's scorecard only: both conditions on one placement.
    assert "sjukfranvaro" in codes("perspective=ekonomi&org_unit=div_annan")
    assert "sjukfranvaro" not in codes("perspective=ekonomi&org_unit=div_nara")
    assert "sjukfranvaro" in codes("perspective=medarbetare&org_unit=div_nara")
    assert "nya_filialer" in codes("year=2022") and "nya_filialer" not in codes("year=2023")
    assert "nya_filialer" not in codes("scorecard_of=avp_pajala&year=2023")
    # Listed once however many scorecards place it.
    telefon = rows(api, "indicators/?code=telefon_teleq&year=2022")
    assert len(telefon) == 1
    # subtree alone selects nothing: every indicator, placed or not.
    assert len(rows(api, "indicators/?subtree=true")) == len(rows(api, "indicators/"))


def test_success_factors_belong_to_a_scorecard(api, region):
    shared = rows(api, "success-factors/?code=sf_hallbar_arbetsmiljo")
    assert {(f["org_unit"], f["year"]) for f in shared} == {
        ("div_nara", 2022),
        ("div_nara", 2023),
        ("div_annan", 2022),
    }
    annan = next(f for f in shared if f["org_unit"] == "div_annan")
    assert annan["scorecard"] == region["annan_2022"].pk
    assert annan["name"] == "Friska medarbetare i Annan"
    assert annan["perspective"] == "medarbetare"
    assert api.get(f"{BASE}/success-factors/{annan['id']}/").json() == annan
    own = rows(api, f"success-factors/?scorecard={region['annan_2022'].pk}")
    assert {f["code"] for f in own} == {
        "sf_hallbar_arbetsmiljo",
        "sf_annan_ekonomi",
        "sf_annan_tillganglighet",
    }
    assert {f["code"] for f in rows(api, "success-factors/?org_unit=div_annan")} == {
        f["code"] for f in own
    }
    in_2023 = rows(api, "success-factors/?year=2023&perspective=ekonomi")
    assert {f["org_unit"] for f in in_2023} == {"div_nara", "div_annan"}


def test_an_assessment_says_which_placement_judged_it(api, region):
    assessment = (
        Assessment.objects.filter(placement__isnull=False)
        .select_related("placement__success_factor__strategic_goal__perspective")
        .first()
    )
    body = api.get(f"{BASE}/assessments/{assessment.pk}/").json()
    assert body["placement"] == assessment.placement_id
    assert body["perspective"] == (
        assessment.placement.success_factor.strategic_goal.perspective.code
    )
    for scorecard in region.values():
        judged = rows(api, f"assessments/?scorecard={scorecard.pk}&page_size=1000")
        expected = Assessment.objects.filter(placement__scorecard=scorecard)
        assert sorted(a["id"] for a in judged) == sorted(expected.values_list("pk", flat=True))
        assert {a["placement"] for a in judged} <= set(
            scorecard.placements.values_list("pk", flat=True)
        )
    assert rows(api, f"assessments/?scorecard={region['nara_2022'].pk}")


# --- actions name their success factor by id where the code is shared --------------------------


def test_an_action_takes_a_shared_success_factor_code_only_as_an_id(clients, region):
    manager = clients["manager"]
    body = {
        "org_unit": "div_nara",
        "perspective": "medarbetare",
        "goal": "Färre sjukdagar",
        "description": "Friskvårdstimme",
        "success_factor": "sf_hallbar_arbetsmiljo",
    }
    response = manager.post(f"{BASE}/actions/", body, format="json")
    assert response.status_code == 400
    factors = SuccessFactor.objects.filter(code="sf_hallbar_arbetsmiljo").order_by("pk")
    assert all(str(f.pk) in response.json()["success_factor"][0] for f in factors)
    nara = factors.get(scorecard=region["nara_2022"])
    response = manager.post(f"{BASE}/actions/", {**body, "success_factor": nara.pk}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert (created["success_factor"], created["success_factor_id"]) == (
        "sf_hallbar_arbetsmiljo",
        nara.pk,
    )
    # A code only one scorecard has still works.
    only = {**body, "perspective": "ekonomi", "success_factor": "sf_annan_ekonomi"}
    response = manager.post(f"{BASE}/actions/", only, format="json")
    assert response.status_code == 201, response.content
    for bad in (10**30, -1, True, ["x"], "nix"):
        response = manager.post(f"{BASE}/actions/", {**body, "success_factor": bad}, format="json")
        assert response.status_code == 400, bad


def test_a_placement_lists_its_own_units_targets_only(api, region):
    # A target the region sets for Nära's indicator is the indicator's (listed there), not
    # the placement's: a placement lists its scorecard's unit's targets only.
    indicator = region["nara_2022"].placements.get(indicator__code="sjukfranvaro").indicator
    Target.objects.create(indicator=indicator, year=2022, kind="at_most", value=5)
    placements = rows(api, "placements/?indicator=sjukfranvaro&org_unit=div_nara&year=2022")
    assert all(t["org_unit"] == "div_nara" for p in placements for t in p["targets"])
    catalogue = api.get(f"{BASE}/indicators/sjukfranvaro/").json()
    assert None in {t["org_unit"] for t in catalogue["targets"]}
