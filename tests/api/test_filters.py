"""Every filter answers a real question; bad values are a 400 that says why, never a 500."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import models
from django.utils import timezone

from api.values.filters import period_range
from divisions.models import OrgUnit
from domain.periods import Period, PeriodKind
from indicators.editing import set_measurement
from indicators.models import Aggregate, Assessment, Indicator, Measurement, Placement
from scorecard.models import Action, Perspective, PerspectiveAssessment

BASE = "/api/v1"


def rows(api, path: str) -> list[dict]:
    """Every row of a list endpoint, following the `next` links."""
    found, url = [], f"{BASE}/{path}"
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        found.extend(body["results"])
        url = body["next"]
    return found


def keys(items: list[dict]) -> set[tuple]:
    return {(m["indicator"], m["org_unit"], m["period"], m["breakdown"]) for m in items}


def expected(**lookups) -> set[tuple]:
    return set(
        Measurement.objects.filter(**lookups).values_list(
            "indicator__code", "org_unit__code", "period", "breakdown"
        )
    )


# --- measurements ------------------------------------------------------------------------


def test_by_indicator_one_or_several(api):
    assert keys(rows(api, "measurements/?indicator=besok_filialer")) == expected(
        indicator__code="besok_filialer"
    )
    both = rows(api, "measurements/?indicator=besok_filialer,nya_filialer")
    assert keys(both) == expected(indicator__code__in=["besok_filialer", "nya_filialer"])


def test_by_org_unit_and_its_subtree(api):
    own = keys(rows(api, "measurements/?org_unit=div_nara"))
    assert own == expected(org_unit__code="div_nara")
    subtree = keys(rows(api, "measurements/?org_unit=div_nara&subtree=true"))
    assert subtree == expected(org_unit__path__startswith="/region_norrbotten/div_nara/")
    assert subtree > own
    assert {unit for _, unit, _, _ in subtree} >= {"avp_pajala", "div_nara"}
    area = keys(rows(api, "measurements/?org_unit=primarvarden&subtree=1"))
    assert area and all(unit.startswith("avp_") for _, unit, _, _ in area)


def test_by_period_list_range_and_kind(api):
    assert keys(rows(api, "measurements/?period=2022-T2")) == expected(period="2022-T2")
    assert keys(rows(api, "measurements/?period=2021-T2,2020-T2")) == expected(
        period__in=["2021-T2", "2020-T2"]
    )
    in_2022 = keys(rows(api, "measurements/?period_from=2022&period_to=2022"))
    assert in_2022 == expected(period__startswith="2022")
    # T2 covers May-August: the months in it and T2 itself (it closes in August).
    t2 = keys(rows(api, "measurements/?period_from=2022-T2&period_to=2022-T2"))
    assert t2 == expected(period__in=["2022-08", "2022-T2"])
    since_2021 = keys(rows(api, "measurements/?period_from=2021"))
    assert since_2021 == expected(period__gte="2021")
    assert keys(rows(api, "measurements/?period_kind=month")) == expected(
        period__in=["2022-04", "2022-08"]
    )
    assert keys(rows(api, "measurements/?period_kind=year")) == expected(
        period__in=["2019", "2020", "2021"]
    )
    tertials = keys(rows(api, "measurements/?period_kind=tertial&period_from=2022-01"))
    assert tertials == expected(period__in=["2022-T1", "2022-T2"])


ALL_CODES = [
    p.code
    for year in range(2019, 2025)
    for p in [
        Period(year, PeriodKind.YEAR),
        *(Period(year, PeriodKind.TERTIAL, n) for n in (1, 2, 3)),
        *(Period(year, PeriodKind.MONTH, n) for n in range(1, 13)),
    ]
]


def _closes(code: str) -> tuple[int, int]:
    period = Period.parse(code)
    return period.year, period.months_elapsed


@pytest.mark.parametrize(
    ("start", "end", "inside", "outside"),
    [
        ("2022", "2022", {"2022", "2022-T1", "2022-01", "2022-12"}, {"2021", "2023-01"}),
        ("2022-T2", "2022-T2", {"2022-05", "2022-08", "2022-T2"}, {"2022-04", "2022-T1", "2022"}),
        ("2022-08", "2022-08", {"2022-08", "2022-T2"}, {"2022-07", "2022-09"}),
        ("2021-11", "2022-02", {"2021-12", "2021-T3", "2021", "2022-02"}, {"2022-T1", "2021-T2"}),
        ("2020", "2022-T1", {"2020", "2021-06", "2022-04", "2022-T1"}, {"2019", "2022-05"}),
        ("2023-T3", None, {"2023-12", "2023", "2024-01"}, {"2023-08", "2023-T2"}),
        (None, "2019-02", {"2019-01", "2019-02"}, {"2019-T1", "2019-03"}),
        ("2022", "2021", set(), {"2021", "2022"}),
    ],
)
def test_period_range_takes_periods_that_close_inside_it(
    nara_scorecard, start, end, inside, outside
):
    unit, perspective = OrgUnit.objects.get(code="div_nara"), Perspective.objects.first()
    PerspectiveAssessment.objects.bulk_create(
        PerspectiveAssessment(org_unit=unit, perspective=perspective, period=code, status="partly")
        for code in ALL_CODES
    )
    lo = Period.parse(start) if start else None
    hi = Period.parse(end) if end else None
    found = set(
        PerspectiveAssessment.objects.filter(period_range(lo, hi)).values_list("period", flat=True)
    )
    assert inside <= found and not (outside & found)
    # The rule, by brute force: the period's last month lies in [start's first, end's last].
    start_month = None
    if lo:
        start_month = (lo.year, lo.months_elapsed - {"year": 11, "tertial": 3, "month": 0}[lo.kind])
    end_month = (hi.year, hi.months_elapsed) if hi else None
    brute = {
        code
        for code in ALL_CODES
        if (start_month is None or _closes(code) >= start_month)
        and (end_month is None or _closes(code) <= end_month)
    }
    assert found == brute


def test_by_breakdown(api):
    assert keys(rows(api, "measurements/?breakdown=women,men")) == expected(
        breakdown__in=["women", "men"]
    )


def test_updated_since_for_incremental_sync(api, cast):
    mark = timezone.now()
    set_measurement(
        user=cast["administrator"],
        indicator=Indicator.objects.get(code="besok_filialer"),
        org_unit=OrgUnit.objects.get(code="div_nara"),
        period="2022-T2",
        value=7000,
    )
    since = (mark - timedelta(milliseconds=1)).isoformat()
    changed = rows(api, f"measurements/?updated_since={since.replace('+', '%2B')}")
    assert keys(changed) == {("besok_filialer", "div_nara", "2022-T2", "total")}
    assert changed[0]["value"] == "7000"


@pytest.mark.parametrize(
    "query",
    [
        "indicator=no_such_indicator",
        "org_unit=nowhere",
        "period=2022-T4",
        "period_from=22",
        "period_kind=week",
        "updated_since=yesterday",
        "layout=tall",
        "period=%25s",
    ],
)
def test_bad_filter_values_are_a_400_that_names_the_problem(api, query):
    response = api.get(f"{BASE}/measurements/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert name in response.json()


def test_unknown_codes_are_named(api):
    response = api.get(f"{BASE}/measurements/?indicator=besok_filialer,nix,nada")
    assert response.status_code == 400
    assert "nix, nada" in response.json()["indicator"][0]


@pytest.mark.parametrize(
    "query",
    [
        "indicator=nix",  # looked up only because the page came back empty
        "org_unit=nix",
        "org_unit=nix&subtree=true",  # a subtree's unit is looked up first
        "indicator=nix&format=csv",  # so is an export's
        "indicator=nix&org_unit=div_nara",
        "indicator=besok_filialer&org_unit=nix",
    ],
)
@pytest.mark.parametrize("path", ["measurements", "aggregates", "assessments"])
def test_one_unknown_code_is_a_400_on_a_page_and_in_an_export(api, path, query):
    response = api.get(f"{BASE}/{path}/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    name = "org_unit" if "org_unit=nix" in query else "indicator"
    assert response.json() == {name: ["Okänd kod: nix"]}


def test_a_known_code_without_values_is_an_empty_page_not_an_error(api):
    # An indicator of the catalogue and a unit of the tree that have no values.
    indicator = Indicator.objects.exclude(measurements__isnull=False).first()
    unit = OrgUnit.objects.exclude(measurements__isnull=False).first()
    assert indicator is not None and unit is not None
    for query in (f"indicator={indicator.code}", f"org_unit={unit.code}"):
        response = api.get(f"{BASE}/measurements/?{query}")
        assert response.status_code == 200, response.content
        assert response.json()["results"] == []
        assert response.json()["sync_watermark"] is not None
    # Roll-ups and assessments may exist without values (a unit above, an analysis).
    for model, path in ((Aggregate, "aggregates"), (Assessment, "assessments")):
        for field, obj in (("indicator", indicator), ("org_unit", unit)):
            response = api.get(f"{BASE}/{path}/?{field}={obj.code}&page_size=1000")
            assert response.status_code == 200, response.content
            assert len(response.json()["results"]) == model.objects.filter(**{field: obj}).count()


# --- ordering and pagination -------------------------------------------------------------


def test_measurements_page_by_cursor_in_a_stable_order(api):
    first = api.get(f"{BASE}/measurements/?page_size=10").json()
    assert len(first["results"]) == 10 and first["next"] and "cursor=" in first["next"]
    everything = rows(api, "measurements/?page_size=10")
    ids = [m["id"] for m in everything]
    assert ids == sorted(ids) and len(ids) == Measurement.objects.count()
    assert [m["id"] for m in rows(api, "measurements/?page_size=7")] == ids


@pytest.mark.parametrize("size", ["100000", "1001", "0", "-5", "ten", "1.5"])
@pytest.mark.parametrize("path", ["measurements/", "org-units/"])
def test_an_invalid_page_size_is_a_json_400_not_another_size(api, path, size):
    response = api.get(f"{BASE}/{path}?page_size={size}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "1000" in response.json()["page_size"][0]


def test_the_largest_page_size_is_allowed(api):
    response = api.get(f"{BASE}/measurements/?page_size=1000")
    assert len(response.json()["results"]) == min(1000, Measurement.objects.count())


# --- finding 8: filters that silently did the wrong thing ------------------------------------


def test_code_filters_by_code(api):
    units = rows(api, "org-units/?code=div_nara,avp_pajala")
    assert {unit["code"] for unit in units} == {"div_nara", "avp_pajala"}
    indicators = rows(api, "indicators/?code=besok_filialer")
    assert [indicator["code"] for indicator in indicators] == ["besok_filialer"]


@pytest.mark.parametrize("word", ["true", "True", "1", "yes", "on", "ja"])
def test_subtree_takes_the_common_spellings_of_true(api, word):
    found = keys(rows(api, f"measurements/?org_unit=div_nara&subtree={word}"))
    assert found == expected(org_unit__path__startswith="/region_norrbotten/div_nara/")


@pytest.mark.parametrize("word", ["false", "0", "no", "off", "nej"])
def test_subtree_takes_the_common_spellings_of_false(api, word):
    found = keys(rows(api, f"measurements/?org_unit=div_nara&subtree={word}"))
    assert found == expected(org_unit__code="div_nara")


def test_a_boolean_it_cannot_read_is_a_400(api):
    response = api.get(f"{BASE}/measurements/?org_unit=div_nara&subtree=kanske")
    assert response.status_code == 400
    assert "kanske" in response.json()["subtree"][0]
    assert api.get(f"{BASE}/assessments/?overridden=maybe").status_code == 400


def test_lists_work_comma_separated_and_as_repeated_parameters(api):
    both = expected(indicator__code__in=["besok_filialer", "fallskador_aldre"])
    for query in (
        "indicator=besok_filialer,fallskador_aldre",
        "indicator=besok_filialer&indicator=fallskador_aldre",
    ):
        assert keys(rows(api, f"measurements/?{query}")) == both
    periods = expected(period__in=["2022-T1", "2022-T2"])
    assert keys(rows(api, "measurements/?period=2022-T1&period=2022-T2")) == periods
    kinds = rows(api, "org-units/?kind=division&kind=area")
    assert {unit["kind"] for unit in kinds} == {"division", "area"}
    assert kinds == rows(api, "org-units/?kind=division,area")


def test_status_lists_work_comma_separated(api):
    listed = rows(api, "assessments/?status=fulfilled,partly")
    repeated = rows(api, "assessments/?status=fulfilled&status=partly")
    assert listed == repeated and listed
    assert {a["status"] for a in listed} <= {"fulfilled", "partly"}
    assert api.get(f"{BASE}/assessments/?status=fulfilled,nope").status_code == 400


def test_an_invalid_cursor_is_a_404_not_a_500(api):
    assert api.get(f"{BASE}/measurements/?cursor=bm9uc2Vuc2U").status_code == 404


# --- assessments and the rest ------------------------------------------------------------


def test_assessments_by_status_perspective_and_override(api, cast):
    statuses = {a.status for a in Assessment.objects.all()}
    assert {"fulfilled", "not_fulfilled"} <= statuses
    for status in statuses:
        found = rows(api, f"assessments/?status={status}")
        assert {a["status"] for a in found} == {status}
        assert len(found) == sum(1 for a in Assessment.objects.all() if a.status == status)
    ekonomi = rows(api, "assessments/?perspective=ekonomi")
    assert ekonomi and {a["perspective"] for a in ekonomi} == {"ekonomi"}
    # An override wins: a computed "fulfilled" overridden to "partly" is found as partly.
    assessment = Assessment.objects.filter(computed_status="fulfilled").first()
    response = api.get(f"{BASE}/assessments/{assessment.pk}/")
    assert response.json()["status"] == "fulfilled"
    Assessment.objects.filter(pk=assessment.pk).update(
        override_status="partly", override_comment="Bedömning"
    )
    partly = rows(api, "assessments/?status=partly")
    assert assessment.pk in {a["id"] for a in partly}
    assert assessment.pk not in {a["id"] for a in rows(api, "assessments/?status=fulfilled")}
    overridden = rows(api, "assessments/?overridden=true")
    assert [a["id"] for a in overridden] == [assessment.pk]
    assert overridden[0]["computed_status"] == "fulfilled"
    assert overridden[0]["status"] == "partly"


def test_assessments_by_indicator_unit_and_period(api):
    found = rows(api, "assessments/?indicator=besok_filialer&org_unit=div_nara&period=2022-T2")
    assert len(found) == 1 and found[0]["trend"] in {"improved", "worsened", "unchanged"}


def test_org_units_by_kind_parent_subtree_and_validity(api, second_division):
    divisions = rows(api, "org-units/?kind=division")
    assert {u["code"] for u in divisions} == {"div_nara", "div_annan"}
    under = {u["code"] for u in rows(api, "org-units/?within=primarvarden")}
    assert under == set(
        OrgUnit.objects.filter(
            path__startswith="/region_norrbotten/div_nara/primarvarden/"
        ).values_list("code", flat=True)
    )
    children = {u["code"] for u in rows(api, "org-units/?parent=div_nara")}
    assert children == {"primarvarden", "folktandvarden"}
    OrgUnit.objects.filter(code="folktandvarden").update(valid_to="2021-12-31")
    valid = {u["code"] for u in rows(api, "org-units/?valid_on=2022-06-01")}
    assert "folktandvarden" not in valid and "primarvarden" in valid
    nara = api.get(f"{BASE}/org-units/avp_pajala/").json()
    assert nara["ancestors"] == ["region_norrbotten", "div_nara", "primarvarden"]
    assert nara["depth"] == 3 and nara["parent"] == "primarvarden"


def test_indicators_with_targets_by_perspective_and_scorecard(api):
    found = {i["code"] for i in rows(api, "indicators/?perspective=medarbetare")}
    assert found == set(
        Placement.objects.filter(
            success_factor__strategic_goal__perspective__code="medarbetare"
        ).values_list("indicator__code", flat=True)
    )
    one = api.get(f"{BASE}/indicators/besok_filialer/").json()
    assert one["targets"] and {"year", "kind", "value", "text"} <= set(one["targets"][0])
    assert {"unit", "direction", "aggregation", "breakdowns"} <= set(one)
    assert not {"owner", "success_factor", "perspective", "follow_up"} & set(one)
    assert len(rows(api, "indicators/?scorecard_of=avp_pajala")) == Indicator.objects.count()


def test_structure_lists(api):
    assert [p["code"] for p in rows(api, "perspectives/")] == [
        "samhalle",
        "medborgare",
        "verksamhet",
        "medarbetare",
        "ekonomi",
    ]
    goals = rows(api, "strategic-goals/?perspective=verksamhet")
    assert [g["code"] for g in goals] == ["god_nara_samordnad_vard"]
    factors = rows(api, "success-factors/?strategic_goal=god_nara_samordnad_vard")
    assert factors and {f["perspective"] for f in factors} == {"verksamhet"}


def test_actions_and_perspective_assessments_by_unit_perspective_status(api, second_division):
    ekonomi, samhalle = (
        Perspective.objects.get(code="ekonomi"),
        Perspective.objects.get(code="samhalle"),
    )
    nara, annan = OrgUnit.objects.get(code="div_nara"), second_division
    Action.objects.create(
        org_unit=nara, perspective=ekonomi, goal="a", description="a", status="done"
    )
    Action.objects.create(org_unit=annan, perspective=samhalle, goal="b", description="b")
    assert [a["goal"] for a in rows(api, "actions/?org_unit=div_nara")] == ["a"]
    assert [a["goal"] for a in rows(api, "actions/?status=none")] == ["b"]
    assert [a["goal"] for a in rows(api, "actions/?perspective=ekonomi&status=done")] == ["a"]
    PerspectiveAssessment.objects.create(
        org_unit=nara, perspective=ekonomi, period="2022-T2", status="partly"
    )
    PerspectiveAssessment.objects.create(
        org_unit=annan, perspective=ekonomi, period="2022-T1", status="fulfilled"
    )
    found = rows(api, "perspective-assessments/?status=partly&period_from=2022-T2")
    assert [(p["org_unit"], p["period"]) for p in found] == [("div_nara", "2022-T2")]
    region = rows(api, "perspective-assessments/?org_unit=region_norrbotten&subtree=true")
    assert len(region) == 2


def test_updated_since_accepts_any_iso_offset(api):
    # Found by schemathesis: PostgreSQL refuses offsets beyond +-15:59 in a literal.
    response = api.get(f"{BASE}/measurements/?updated_since=2154-06-30T02:40:29-22:57")
    assert response.status_code == 200 and response.json()["results"] == []


def test_assessment_exports_carry_what_the_list_says(api, cast):
    """The exports read plain rows (AssessmentSerializer's fast path); the JSON list reads
    model instances: every field of every row must be the same, overrides included."""
    import csv
    import io
    import json

    from openpyxl import load_workbook

    assessment = Assessment.objects.filter(computed_status="fulfilled").first()
    Assessment.objects.filter(pk=assessment.pk).update(
        override_status="partly", override_comment='Bedömning; "citat"', analysis="=1+1"
    )
    listed = rows(api, "assessments/?page_size=1000")
    assert len(listed) == Assessment.objects.count() > 10

    def text(value):  # as a CSV cell holds it
        if value is None:
            return ""
        if isinstance(value, dict):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    response = api.get(f"{BASE}/assessments/?format=csv")
    exported = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(exported) == len(listed)
    for row, item in zip(exported, listed, strict=True):
        expected = {k: text(v) for k, v in item.items()}
        expected["analysis"] = "'=1+1" if expected["analysis"] == "=1+1" else expected["analysis"]
        assert row == expected
    response = api.get(f"{BASE}/assessments/?format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    header, *cells = list(sheet.iter_rows(values_only=True))
    assert [dict(zip(header, r, strict=True))["status"] for r in cells] == [
        item["status"] for item in listed
    ]
    assert dict(zip(header, cells[0], strict=True))["details"] == text(listed[0]["details"])


def test_pages_and_exports_in_a_fixed_number_of_queries(api, cast, django_assert_max_num_queries):
    """The token with its user, the page (with its watermark and the filter's code), the
    page's codes: never a query per row, filtered or not; an export reads its rows in chunks (the
    watermark, the count, then the rows)."""
    indicator = Measurement.objects.values_list("indicator__code", flat=True).first()
    unit = Measurement.objects.values_list("org_unit__code", flat=True).first()
    since = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    api.get(f"{BASE}/measurements/?page_size=1")  # records the key's use (once a minute)
    for query, budget in [
        ("page_size=100", 3),
        # The code's id is found by the page's own statement (CodeToCheck).
        (f"page_size=100&indicator={indicator}", 3),
        (f"page_size=100&org_unit={unit}", 3),
        (f"page_size=100&updated_since={since}", 3),
        ("format=csv", 4),
        ("format=xlsx", 4),
    ]:
        with django_assert_max_num_queries(budget):
            response = api.get(f"{BASE}/measurements/?{query}")
            assert response.status_code == 200, query
            if response.streaming:
                b"".join(response.streaming_content)
    for fmt in ("csv", "xlsx"):
        with django_assert_max_num_queries(4):
            response = api.get(f"{BASE}/assessments/?format={fmt}")
            b"".join(response.streaming_content)


def test_one_indicators_pages_follow_the_id_order(api, cast):
    indicator = (
        Measurement.objects.values("indicator__code")
        .annotate(n=models.Count("id"))
        .order_by("-n")
        .values_list("indicator__code", flat=True)
        .first()
    )
    found = rows(api, f"measurements/?indicator={indicator}&page_size=3")
    ids = [m["id"] for m in found]
    assert ids == sorted(ids) and len(ids) > 3
    assert len(ids) == Measurement.objects.filter(indicator__code=indicator).count()


@pytest.mark.parametrize("subtree", [False, True])
def test_one_org_units_pages_are_complete_and_in_order(api, cast, subtree):
    # Alone, one unit's pages read the index (org_unit, id) in id order; with its subtree
    # they go by the narrow path (sorted matches). Either way every value comes once.
    query = "org_unit=div_nara&page_size=7" + ("&subtree=true" if subtree else "")
    found = rows(api, f"measurements/?{query}")
    ids = [m["id"] for m in found]
    expected = Measurement.objects.filter(org_unit__code="div_nara")
    if subtree:
        expected = Measurement.objects.filter(
            org_unit__path__startswith="/region_norrbotten/div_nara/"
        )
    assert len(ids) > 7 and len(set(ids)) == len(ids)
    assert sorted(ids) == sorted(expected.values_list("id", flat=True))
    if not subtree:
        assert ids == sorted(ids)


def test_filter_sets_of_overlapping_requests_keep_their_own_values(api):
    """Filters are copied per request without deepcopy (api.organisation.filters.FilterSet):
    two filter sets alive at once each read their own form, also in `method=` filters."""
    from django.http import QueryDict

    from api.values.filters import MeasurementFilterSet

    queryset = Measurement.objects.all()
    subtree = MeasurementFilterSet(QueryDict("org_unit=div_nara&subtree=true"), queryset)
    own = MeasurementFilterSet(QueryDict("org_unit=div_nara&period_kind=year"), queryset)
    assert subtree.is_valid() and own.is_valid()
    for filters in (subtree, own):
        assert all(f.parent is filters for f in filters.filters.values())
        assert filters.filters["period_kind"].filter.f is filters.filters["period_kind"]
    assert not hasattr(MeasurementFilterSet.base_filters["org_unit"], "parent")
    assert set(subtree.qs.values_list("pk", flat=True)) == set(
        Measurement.objects.filter(
            org_unit__path__startswith="/region_norrbotten/div_nara/"
        ).values_list("pk", flat=True)
    )
    assert set(own.qs.values_list("pk", flat=True)) == set(
        Measurement.objects.filter(org_unit__code="div_nara", period__regex=r"^\d{4}$").values_list(
            "pk", flat=True
        )
    )
    assert 0 < own.qs.count() < subtree.qs.count()


def test_a_model_choice_filter_gets_the_choices_of_its_own_request(rf, second_division):
    """The shared form class (api.organisation.filters.FilterSet) is not used where a
    field's queryset is made per request: each request sees its own choices."""
    import django_filters

    from api.organisation.filters import FilterSet

    def units_of(request):
        return OrgUnit.objects.filter(code=request.GET["scope"])

    class UnitChoice(FilterSet):
        unit = django_filters.ModelChoiceFilter(field_name="org_unit", queryset=units_of)

        class Meta:
            model = Measurement
            fields = ["unit"]

    nara, other = OrgUnit.objects.get(code="div_nara"), second_division
    first = UnitChoice(
        rf.get("/", {"scope": nara.code}).GET, request=rf.get("/", {"scope": nara.code})
    )
    second = UnitChoice(
        rf.get("/", {"scope": other.code}).GET, request=rf.get("/", {"scope": other.code})
    )
    assert list(first.form.fields["unit"].queryset) == [nara]
    assert list(second.form.fields["unit"].queryset) == [other]


def test_a_page_s_rows_are_read_without_a_converter_per_row(db):
    # Django casts an integer expression's value with int() row by row; the page's own
    # (sort_id, the watermark) are read as the database returns them (indicators.selectors
    # .AsReturned), so no converter runs over the page's rows.
    from api.values.views import _measurement_list_rows

    compiler = _measurement_list_rows().all()[:100].query.get_compiler(using="default")
    compiler.setup_query()
    assert compiler.get_converters([expression for expression, *_ in compiler.select]) == {}
    row = _measurement_list_rows().all().first()
    assert row is None or type(row["sort_id"]) is int


@pytest.mark.parametrize("path", ["measurements", "aggregates", "assessments"])
def test_a_page_of_one_code_costs_the_statements_of_the_whole_list(api, path):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api.get(f"{BASE}/{path}/?page_size=1")  # records the key's use (once a minute)
    counts = {}
    for query in ("", "indicator=besok_filialer", "org_unit=div_nara"):
        with CaptureQueriesContext(connection) as queries:
            response = api.get(f"{BASE}/{path}/?page_size=100&{query}")
        assert response.status_code == 200 and response.json()["results"], query
        counts[query] = len(queries)
    assert counts["indicator=besok_filialer"] == counts["org_unit=div_nara"] == counts[""]
