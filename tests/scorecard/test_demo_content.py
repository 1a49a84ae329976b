"""What the demo shows of Division Nära's report (issue #10): the analysis texts below its
tables, written as its manager writes them, and the earlier periods its texts give."""

from __future__ import annotations

import yaml

from audit.models import AuditEntry, Source
from demo.nara import ANALYSES_FILE, HISTORY_FILE
from divisions.models import OrgUnit
from indicators.models import Assessment, Measurement
from indicators.scorecards import placement_for
from scorecard.models import PerspectiveAssessment

PERIOD = "2022-T2"


def _analyses() -> list[dict]:
    return yaml.safe_load(ANALYSES_FILE.read_text(encoding="utf-8"))


def test_every_analysis_belongs_to_an_indicator_due_in_the_period_on_naras_scorecard(
    nara_scorecard,
):
    nara = OrgUnit.objects.get(code="div_nara")
    entries = _analyses()
    assert len(entries) == len({e["indicator"] for e in entries}) == 25
    for entry in entries:
        placement = placement_for(nara, 2022, entry["indicator"])
        assert placement is not None, entry["indicator"]
        assert "T2" in placement.follow_up, entry["indicator"]
        assert entry["period"] == PERIOD and entry["analysis"].strip()


def test_the_demo_carries_the_reports_analysis_written_by_the_division_manager(demo):
    falls = Assessment.objects.get(
        indicator__code="fallskador_aldre", org_unit__code="div_nara", period=PERIOD
    )
    assert falls.analysis.startswith("Åtta personer har fått fallskador")
    written = AuditEntry.objects.filter(
        object_id=str(falls.pk), changes__has_key="analysis", username="chef.nara"
    )
    assert written.get().source == Source.COMMAND
    with_text = Assessment.objects.filter(org_unit__code="div_nara", period=PERIOD).exclude(
        analysis=""
    )
    # Every text of the report, also the 7 that explain a missing value ("därför saknas
    # utfall"): an analysis needs no value.
    assert with_text.count() == 25
    kpp = with_text.get(indicator__code="produktivitet_kpp")
    assert not Measurement.objects.filter(
        indicator__code="produktivitet_kpp", org_unit__code="div_nara", period=PERIOD
    ).exists()
    assert kpp.analysis
    # A text two indicators share is on both.
    sip = with_text.filter(indicator__code__in=["sip_deltagit", "sip_fast_vardkontakt"])
    assert len({a.analysis for a in sip}) == 1 and sip.count() == 2
    # The report states no overall assessment for any perspective (narrative.md).
    assert not PerspectiveAssessment.objects.filter(org_unit__code="div_nara").exists()


def test_the_earlier_periods_the_texts_give_make_a_trend(demo):
    history = Measurement.objects.filter(source_import__filename__endswith=HISTORY_FILE.name)
    assert sorted(history.values_list("indicator__code", "period")) == [
        ("ftv_fardigbehandlade", "2021-T2"),
        ("levnadsvanor_radgivning", "2021-T2"),
        ("telefon_teleq", "2019-T2"),
    ]
    assert all(m.comment.startswith("Analystext") for m in history)  # where each comes from
    trends = dict(
        Assessment.objects.filter(
            org_unit__code="div_nara",
            period=PERIOD,
            indicator__code__in=["ftv_fardigbehandlade", "levnadsvanor_radgivning"],
        ).values_list("indicator__code", "trend")
    )
    assert trends == {"ftv_fardigbehandlade": "improved", "levnadsvanor_radgivning": "improved"}
