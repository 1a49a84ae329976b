"""The Kolada client and the sync against a real local HTTP server with recorded answers.

Figures are the recording's (tests/data/kolada/recording.json): Norrbotten (0025), the
country (0000) and three peer regions (0022-0024), 2020-2022.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from audit.models import AuditEntry
from benchmarks.kolada import KoladaError
from benchmarks.models import BenchmarkArea, BenchmarkKpi, BenchmarkSync, BenchmarkValue
from benchmarks.sync import sync_benchmarks
from domain.kolada import KoladaFormatError
from indicators.models import Indicator

AREAS = ["0025", "0000", "0022", "0023", "0024"]
YEARS = [2020, 2021, 2022]


def _indicator(code: str, kpi: str) -> Indicator:
    return Indicator.objects.create(
        code=code, name=code, unit="percent", direction="increase", kolada_kpi=kpi
    )


def _value(kpi: str, area: str, year: int, gender: str = "T") -> Decimal | None:
    return BenchmarkValue.objects.get(kpi_id=kpi, area=area, year=year, gender=gender).value


def test_paging_follows_next_page_to_the_last_row(local_kolada):
    # Two rows a page: the 15 data rows of N79173 (5 areas x 3 years) come in 8 pages.
    client = local_kolada.client(per_page=2)
    values = client.data("N79173", AREAS, YEARS)
    data_requests = [r for r in local_kolada.requests if r.startswith("/v3/data/")]
    assert len(data_requests) == 8
    assert data_requests[1].endswith("per_page=2&page=2")
    assert len(values) == 15 * 3  # T, K and M of every row, none twice
    assert len({(v.area, v.year, v.gender) for v in values}) == 45


def test_total_women_and_men_are_stored_per_area_and_year(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    _indicator("telefon", "N79179")
    result = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    assert result.errors == []
    # N79173: 15 rows with T, K, M; N79179 (not divided by gender): 15 rows with T only.
    assert result.created == 45 + 15
    assert _value("N79173", "0025", 2022, "T") == Decimal("71.2")
    assert _value("N79173", "0025", 2022, "K") == Decimal("73.0")
    assert _value("N79173", "0025", 2022, "M") == Decimal("69.1")
    assert _value("N79173", "0000", 2022, "T") == Decimal("78.4")
    assert not BenchmarkValue.objects.filter(kpi_id="N79179", gender__in=["K", "M"]).exists()
    kpi = BenchmarkKpi.objects.get(pk="N79173")
    assert kpi.is_divided_by_gender and kpi.publication_date == date(2023, 3, 15)
    assert BenchmarkValue.objects.get(
        kpi_id="N79173", area="0025", year=2022, gender="T"
    ).publication_date == date(2023, 3, 15)
    assert BenchmarkArea.objects.get(pk="0025").title == "Region Norrbotten"
    # Every stored value is in the audit trail, as a creation by the system.
    assert AuditEntry.objects.filter(content_type__model="benchmarkvalue").count() == 60


def test_a_resync_that_changes_nothing_writes_nothing_and_says_so(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    audit_before = AuditEntry.objects.count()
    stamps = dict(BenchmarkValue.objects.values_list("pk", "fetched_at"))
    again = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    assert (again.created, again.changed, again.unchanged) == (0, 0, 45)
    assert "nothing written" in again.summary()
    assert AuditEntry.objects.count() == audit_before
    assert dict(BenchmarkValue.objects.values_list("pk", "fetched_at")) == stamps
    assert BenchmarkSync.objects.order_by("-started_at").first().outcome == "unchanged"


def test_a_revised_value_is_changed_and_audited(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    row = next(
        r
        for r in local_kolada.answers.recording["data"]
        if (r["kpi"], r["municipality"], r["period"]) == ("N79173", "0000", 2022)
    )
    row["values"][2]["value"] = 78.6  # Kolada revises the country's 2022 total
    again = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    assert (again.created, again.changed) == (0, 1)
    assert _value("N79173", "0000", 2022) == Decimal("78.6")
    entry = AuditEntry.objects.filter(content_type__model="benchmarkvalue").latest("at")
    assert entry.changes["value"] == ["78.4", "78.6"]


def test_a_kpi_that_stopped_being_published_keeps_its_values(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    local_kolada.faults["N79173"] = "gone"
    result = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    assert result.withdrawn == ["N79173"] and result.errors == []
    assert "no longer published: N79173" in result.summary()
    assert BenchmarkKpi.objects.get(pk="N79173").withdrawn_at is not None
    assert _value("N79173", "0025", 2022) == Decimal("71.2")
    assert BenchmarkValue.objects.filter(kpi_id="N79173").count() == 45


def test_a_source_that_times_out_keeps_the_last_good_values(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    local_kolada.faults["N79173"] = "slow"
    local_kolada.requests.clear()
    result = sync_benchmarks(
        client=local_kolada.client(timeout=0.2, retries=1), areas=AREAS, years=YEARS
    )
    assert len(result.errors) == 1 and "no answer within 0.2 s" in result.errors[0]
    # The first attempt and one retry, then it gives up.
    assert len([r for r in local_kolada.requests if r.startswith("/v3/kpi/")]) == 2
    assert _value("N79173", "0025", 2022) == Decimal("71.2")
    log = BenchmarkSync.objects.order_by("-started_at").first()
    assert log.outcome == "failed" and "N79173" in log.errors[0]


def test_malformed_json_is_a_clear_error_and_changes_nothing(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    _indicator("telefon", "N79179")
    local_kolada.faults["N79173"] = "malformed"
    result = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    assert result.errors == [
        "N79173: /v3/kpi/N79173?per_page=5000: not JSON "
        "(Expecting value: line 1 column 47 (char 46))"
    ]
    assert not BenchmarkValue.objects.filter(kpi_id="N79173").exists()
    assert BenchmarkValue.objects.filter(kpi_id="N79179").count() == 15  # the other KPI
    assert BenchmarkSync.objects.get().outcome == "partial"


def test_a_server_error_is_retried_then_reported(local_kolada, db):
    local_kolada.faults["N79173"] = "500"
    with pytest.raises(KoladaError, match="Kolada answered 500"):
        local_kolada.client(retries=2).kpi("N79173")
    assert len(local_kolada.requests) == 3


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"kpi": "N79173", "municipality": "0025", "period": 2022, "values": [{"count": -1}]},
            "gender",
        ),
        (
            {
                "kpi": "N79173",
                "municipality": "0025",
                "period": 2022,
                "values": [{"gender": "T", "count": -1, "status": "", "value": 1}],
            },
            "count",
        ),
        (
            {
                "kpi": "N79173",
                "municipality": "0025",
                "period": 2022,
                "values": [{"gender": "T", "count": 1, "status": "", "value": True}],
            },
            "not a number",
        ),
        (
            {"kpi": "N79173", "municipality": "0025", "period": 2022, "values": [{"gender": "X"}]},
            "gender",
        ),
        (
            {
                "kpi": "N79173",
                "municipality": "0025",
                "period": 2022,
                "values": [{"gender": "T", "count": 1, "status": "", "value": "71,2"}],
            },
            "not a number",
        ),
    ],
)
def test_hostile_rows_are_refused_with_their_place(local_kolada, db, row, message):
    _indicator("bedomning_3d", "N79173")
    sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    local_kolada.answers.recording["data"].insert(0, row)
    result = sync_benchmarks(client=local_kolada.client(), areas=AREAS, years=YEARS)
    assert message in result.errors[0] and "data.values[0]" in result.errors[0]
    assert _value("N79173", "0025", 2022) == Decimal("71.2")


def test_a_next_page_on_another_host_is_not_followed(local_kolada):
    answers = local_kolada.answers
    original = answers.answer

    def elsewhere(base, path, query):
        status, body = original(base, path, query)
        if body is not None:
            body["next_page"] = "http://attacker.example/v3/kpi/N79173?page=2"
        return status, body

    answers.answer = elsewhere
    with pytest.raises(KoladaFormatError, match="another host"):
        local_kolada.client().kpi("N79173")


def test_a_row_sent_twice_is_refused_before_anything_is_written(local_kolada, db):
    _indicator("bedomning_3d", "N79173")
    data = local_kolada.answers.recording["data"]
    data.append(dict(data[0]))  # the same area, year and genders again, on the last page
    result = sync_benchmarks(client=local_kolada.client(per_page=4), areas=AREAS, years=YEARS)
    assert "the same area, year and gender twice" in result.errors[0]
    assert not BenchmarkValue.objects.exists()
