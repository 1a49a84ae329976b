"""Forms of the report workflow. They validate and say what is wrong beside the field;
the writes themselves are the editing services' (indicators.editing, scorecard.editing)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from domain.measurements import matches_share, number_problems, share_of
from indicators.models import Indicator, Unit
from scorecard.models import Action, ActionStatus, Perspective, StatusChoices, SuccessFactor

TEXT_MAX = 5000


# Breakdowns that carry the share itself; others (counts written beside a share) do not.
SHARE_BREAKDOWNS = frozenset({"total", "women", "men"})


def has_fraction(indicator: Indicator, breakdown: str = "total") -> bool:
    """Values that are shares take a numerator and a denominator."""
    return indicator.unit in (Unit.PERCENT, Unit.RATIO) and breakdown in SHARE_BREAKDOWNS


class MeasurementForm(forms.Form):
    value = forms.DecimalField(label=_("Utfall"), max_digits=20, decimal_places=6, localize=True)
    numerator = forms.DecimalField(
        label=_("Täljare"), max_digits=20, decimal_places=6, required=False, localize=True
    )
    denominator = forms.DecimalField(
        label=_("Nämnare"), max_digits=20, decimal_places=6, required=False, localize=True
    )
    comment = forms.CharField(
        label=_("Kommentar"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, indicator: Indicator, breakdown: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.fraction = has_fraction(indicator, breakdown)
        if not self.fraction:
            del self.fields["numerator"]
            del self.fields["denominator"]

    def clean_denominator(self):
        denominator = self.cleaned_data.get("denominator")
        if "denominator" in number_problems(denominator=denominator):
            raise forms.ValidationError(_("Nämnaren måste vara större än noll."))
        return denominator

    def clean(self):
        cleaned = super().clean()
        if not self.fraction:
            return cleaned
        numerator, denominator = cleaned.get("numerator"), cleaned.get("denominator")
        value = cleaned.get("value")
        if (numerator is None) != (denominator is None) and not self.has_error("denominator"):
            field = "denominator" if denominator is None else "numerator"
            self.add_error(field, _("Ange både täljare och nämnare, eller ingen av dem."))
        elif numerator is not None and denominator and value is not None:
            percent = self.indicator.unit == Unit.PERCENT
            if not matches_share(value, numerator, denominator, percent=percent):
                expected = share_of(numerator, denominator, percent=percent)
                self.add_error(
                    "value",
                    _("Utfallet stämmer inte med täljare och nämnare (som ger %(expected)s).")
                    % {"expected": f"{expected:.1f}".replace(".", ",")},
                )
        return cleaned


class AnalysisForm(forms.Form):
    analysis = forms.CharField(
        label=_("Analys"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Kort analys av periodens utfall för styrmåttet."),
    )


ASSESSED_STATUSES = [
    (StatusChoices.FULFILLED.value, StatusChoices.FULFILLED.label),
    (StatusChoices.PARTLY.value, StatusChoices.PARTLY.label),
    (StatusChoices.NOT_FULFILLED.value, StatusChoices.NOT_FULFILLED.label),
]


class OverrideForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Manuell måluppfyllelse"),
        required=False,
        choices=[("", _("Ingen (använd beräknad)")), *ASSESSED_STATUSES],
    )
    comment = forms.CharField(
        label=_("Motivering"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", _("En manuell bedömning måste motiveras."))
        return cleaned


class PerspectiveAssessmentForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Måluppfyllelse"),
        choices=[
            ("", "---------"),
            *ASSESSED_STATUSES,
            (StatusChoices.NO_DATA.value, StatusChoices.NO_DATA.label),
        ],
    )
    text = forms.CharField(
        label=_("Samlad bedömning"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class DateInput(forms.DateInput):
    input_type = "date"


class ActionForm(forms.ModelForm):
    """Validation only: the action is saved by scorecard.editing.save_action."""

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[
            (ActionStatus.NOT_STARTED.value, ActionStatus.NOT_STARTED.label),
            (ActionStatus.ONGOING.value, ActionStatus.ONGOING.label),
            (ActionStatus.DONE.value, ActionStatus.DONE.label),
            (ActionStatus.PAUSED.value, ActionStatus.PAUSED.label),
        ],
    )

    class Meta:
        model = Action
        fields = [
            "perspective",
            "success_factor",
            "number",
            "goal",
            "description",
            "status",
            "owner",
            "due_date",
            "comment",
        ]
        widgets = {
            "goal": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "comment": forms.Textarea(attrs={"rows": 2}),
            "due_date": DateInput(format="%Y-%m-%d"),
        }

    def __init__(self, *args, scorecard=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["perspective"].queryset = Perspective.objects.order_by("order")
        # The success factors of the scorecard the unit follows in the report's year.
        self.fields["success_factor"].queryset = SuccessFactor.objects.filter(
            scorecard=scorecard
        ).select_related("strategic_goal")

    def clean(self):
        cleaned = super().clean()
        perspective, factor = cleaned.get("perspective"), cleaned.get("success_factor")
        if perspective and factor and factor.strategic_goal.perspective_id != perspective.pk:
            self.add_error(
                "success_factor",
                _("Framgångsfaktorn hör till ett annat perspektiv (%(name)s).")
                % {"name": factor.strategic_goal.perspective.name},
            )
        return cleaned


REASON_MAX = 1000


class CloseForm(forms.Form):
    """Closing a period: the reason is optional ("Slutlig rapport" says enough)."""

    reason = forms.CharField(
        label=_("Motivering (valfri)"),
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReopenForm(forms.Form):
    """Reopening a closed report is an administrator's act with a stated reason."""

    reason = forms.CharField(
        label=_("Motivering"),
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Ange varför perioden öppnas igen.")},
    )
