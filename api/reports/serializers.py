"""The report of an org unit and period as the API gives it (dashboard.selectors.final).

The answer is built from the report's JSON content (dashboard.snapshot) rather than from
models, so a closed report reads exactly as it was closed. These serializers document its
shape; a line also carries any other simple field the report has (added fields appear
without a change of this API's version).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers

from dashboard.corrections import Corrections, FinalState
from dashboard.selectors.final import ShownReport

NUMBER = {"max_digits": 30, "decimal_places": 10, "coerce_to_string": False}


class ReportLineSerializer(serializers.Serializer):
    perspective = serializers.CharField()
    strategic_goal = serializers.CharField()
    success_factor = serializers.CharField()
    indicator = serializers.CharField(help_text="The indicator's code in the catalogue.")
    name = serializers.CharField(help_text="The indicator's name as this report writes it.")
    unit = serializers.CharField()
    follow_up = serializers.ListField(child=serializers.CharField())
    breakdown = serializers.CharField()
    target = serializers.CharField(allow_blank=True)
    value = serializers.DecimalField(**NUMBER, allow_null=True)
    numerator = serializers.DecimalField(**NUMBER, allow_null=True)
    denominator = serializers.DecimalField(**NUMBER, allow_null=True)
    comment = serializers.CharField(allow_blank=True)
    status = serializers.CharField(
        allow_blank=True,
        help_text="This breakdown's state as the report shows it: fulfilled, partly, "
        "not_fulfilled, or why there is no status: no_data (no value yet), no_reference (a "
        "value without the earlier one its target compares with), not_due (not followed up "
        "this period), not_assessed (no target).",
    )
    indicator_state = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text="The indicator's state as a whole (the same codes), as the counts per "
        "perspective count it.",
    )
    trend = serializers.CharField(allow_blank=True)
    first_of_indicator = serializers.BooleanField()
    indicator_status = serializers.CharField(
        allow_blank=True, help_text="The indicator's status (the manual one where set)."
    )
    computed_status = serializers.CharField(allow_blank=True)
    override_status = serializers.CharField(allow_blank=True)
    override_comment = serializers.CharField(allow_blank=True)
    analysis = serializers.CharField(allow_blank=True)
    note = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text="The cell's published comment (/cell-comments/); drafts never.",
    )
    note_by = serializers.CharField(
        allow_blank=True, required=False, help_text="Who wrote it: full name, else user name."
    )
    note_number = serializers.IntegerField(
        required=False, help_text="Its footnote number in the report (0: no comment)."
    )
    corrected = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text='After a reopening: "" unchanged, "added", or the changed fields '
        "(space-separated) against the frozen report.",
    )
    frozen_value = serializers.DecimalField(
        **NUMBER,
        allow_null=True,
        required=False,
        help_text="After a reopening: the value as the report was closed.",
    )
    national_value = serializers.DecimalField(
        **NUMBER,
        allow_null=True,
        required=False,
        help_text="The country's latest annual value of the same figure in Kolada (total, "
        "women or men as the line), where the indicator is mapped to a Kolada KPI.",
    )
    national_year = serializers.IntegerField(
        allow_null=True, required=False, help_text="The year of national_value."
    )


class PerspectiveAssessmentContentSerializer(serializers.Serializer):
    status = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    justification = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text="Why the status differs from the computed roll-up ('computed'); missing "
        "in reports closed before it was recorded.",
    )


class PerspectiveCellSerializer(serializers.Serializer):
    perspective = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField(allow_blank=True)
    counts = serializers.DictField(child=serializers.IntegerField())
    computed = serializers.CharField(
        allow_blank=True,
        required=False,
        help_text="The roll-up of the perspective's indicators, beside the manager's judgement.",
    )
    assessment = PerspectiveAssessmentContentSerializer(
        allow_null=True, help_text="The samlad bedömning, where one is written."
    )


class ChildSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    perspectives = PerspectiveCellSerializer(many=True)


class ActionContentSerializer(serializers.Serializer):
    perspective = serializers.CharField()
    number = serializers.CharField(allow_blank=True)
    goal = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(allow_blank=True)
    owner = serializers.CharField(allow_blank=True)
    due_date = serializers.DateField(allow_null=True)


class CloseSerializer(serializers.Serializer):
    period = serializers.CharField()
    closed_on = serializers.CharField(help_text="The org unit the close was made on.")
    closed_at = serializers.DateTimeField()
    closed_by = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    reopened_at = serializers.DateTimeField(allow_null=True)
    reopened_by = serializers.CharField(allow_blank=True)
    reopen_reason = serializers.CharField(allow_blank=True)


class FieldChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    frozen = serializers.JSONField(allow_null=True, help_text="As the closed report had it.")
    now = serializers.JSONField(allow_null=True)


class LineChangeSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    name = serializers.CharField()
    breakdown = serializers.CharField()
    kind = serializers.ChoiceField(choices=["changed", "added", "removed"])
    fields = FieldChangeSerializer(many=True)


class ReportSerializer(serializers.Serializer):
    org_unit = serializers.CharField()
    org_unit_name = serializers.CharField(help_text="As the report names it.")
    period = serializers.CharField()
    frozen = serializers.BooleanField(
        help_text="true: the report as it was closed (a close is in force); nothing that "
        "happened since changes it."
    )
    corrected_after_close = serializers.BooleanField(
        help_text="true: the period was closed and reopened ('rättad efter fastställande'); "
        "`corrections` lists the lines that differ from the closed report."
    )
    close = CloseSerializer(
        allow_null=True, help_text="The close the report is frozen by, or was reopened from."
    )
    lines = ReportLineSerializer(many=True)
    perspectives = PerspectiveCellSerializer(many=True)
    children = ChildSerializer(many=True)
    actions = ActionContentSerializer(many=True)
    corrections = LineChangeSerializer(many=True)


# --------------------------------------------------------------------------- the answer


def report_data(report: ShownReport) -> dict[str, Any]:
    content = report.content
    corrections = report.corrections
    final = report.final or (corrections.final if corrections else None)
    return {
        "org_unit": content["org_unit"]["code"],
        "org_unit_name": content["org_unit"]["name"],
        "period": content["period"],
        "frozen": report.final is not None,
        "corrected_after_close": corrections is not None,
        "close": _close(final) if final is not None else None,
        "lines": report_lines(content, corrections),
        "perspectives": content["perspectives"],
        "children": content.get("children", []),
        "actions": content.get("actions", []),
        "corrections": [_change(change) for change in corrections.changes] if corrections else [],
    }


def report_lines(content: dict[str, Any], corrections: Corrections | None) -> list[dict]:
    """The report's lines, flat: one per indicator and breakdown."""
    lines = []
    by_key = corrections.by_key if corrections else {}
    for stored in content["lines"]:
        line = {k: v for k, v in stored.items() if k not in ("indicator", "measurement")}
        line.pop("assessment", None)
        indicator = stored["indicator"]
        measurement = stored.get("measurement") or {}
        assessment = stored.get("assessment") or {}
        line.update(
            indicator=indicator["code"],
            name=indicator["name"],
            unit=indicator["unit"],
            follow_up=indicator.get("follow_up", []),
            value=_number(stored.get("value")),
            numerator=_number(measurement.get("numerator")),
            denominator=_number(measurement.get("denominator")),
            comment=measurement.get("comment", ""),
            indicator_status=assessment.get("status", ""),
            computed_status=assessment.get("computed_status", ""),
            override_status=assessment.get("override_status", ""),
            override_comment=assessment.get("override_comment", ""),
            analysis=assessment.get("analysis", ""),
            national_value=_number(stored.get("national_value")),
            national_year=stored.get("national_year"),
        )
        if corrections is not None:
            change = by_key.get(f"{indicator['code']}/{stored['breakdown']}")
            frozen_value = line["value"]
            corrected = ""
            if change is not None:
                changed = {f.field: f for f in change.fields}
                corrected = change.kind if change.kind != "changed" else " ".join(changed)
                if change.kind == "added":
                    frozen_value = None
                elif "value" in changed:
                    frozen_value = _number(changed["value"].frozen)
            line.update(corrected=corrected, frozen_value=frozen_value)
        lines.append(line)
    return lines


def _number(text: Any) -> Decimal | None:
    if text is None or text == "":
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def _close(final: FinalState) -> dict[str, Any]:
    return {
        "period": final.period,
        "closed_on": final.closed_on,
        "closed_at": final.closed_at,
        "closed_by": final.closed_by,
        "reason": final.reason,
        "reopened_at": final.reopened_at,
        "reopened_by": final.reopened_by,
        "reopen_reason": final.reopen_reason,
    }


def _change(change) -> dict[str, Any]:
    return {
        "indicator": change.indicator,
        "name": change.name,
        "breakdown": change.breakdown,
        "kind": change.kind,
        "fields": [{"field": f.field, "frozen": f.frozen, "now": f.now} for f in change.fields],
    }
