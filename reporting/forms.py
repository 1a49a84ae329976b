"""Forms of the report workflow. They validate and say what is wrong beside the field;
the writes themselves are the editing services' (indicators.editing, scorecard.editing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext_lazy as _

from dashboard.presentation import breakdown_label, status_label
from domain.measurements import matches_share, number_problems, share_of
from domain.periods import InvalidPeriod, Period
from indicators.comments import clean_text
from indicators.models import CELL_COMMENT_MAX, Indicator, Measurement, Unit
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
        self.breakdown = breakdown
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
        help_text=_(
            "Kort analys av periodens utfall för styrmåttet. Den kan skrivas innan utfallet "
            "finns, till exempel för att förklara varför det saknas."
        ),
    )

    def clean_analysis(self) -> str:
        return same_lines(self.cleaned_data["analysis"])


def same_lines(text: str | None) -> str:
    """Text as stored: browsers send a textarea's line breaks as CRLF."""
    return (text or "").replace("\r\n", "\n").strip()


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
    justification = forms.CharField(
        label=_("Motivering"),
        help_text=_("Krävs när måluppfyllelsen skiljer sig från den beräknade sammanvägningen."),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, computed: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The roll-up of the perspective's indicators for the unit and period ("" without any).
        self.computed = computed

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status and status != self.computed and not data.get("justification", "").strip():
            self.add_error(
                "justification",
                _(
                    "Du har valt %(judged)s men sammanvägningen av styrmåtten är %(computed)s. "
                    "Skriv en motivering till varför de skiljer sig."
                )
                % {
                    "judged": status_label(status),
                    "computed": status_label(self.computed) or _("ingen (inga styrmått)"),
                },
            )
        return data


class CellCommentForm(forms.Form):
    """A cell's comment: saved as a draft (only writers see it) or published."""

    text = forms.CharField(
        label=_("Kommentar"),
        required=False,
        max_length=CELL_COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Visas som en numrerad fotnot under rapportens tabell, som kommentar på cellen i "
            "Excel-filen och som fotnot i dokumentet, när den är publicerad."
        ),
    )

    def __init__(self, *args, deleting: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.deleting = deleting

    def clean_text(self) -> str:
        text = clean_text(self.cleaned_data["text"])
        if not text and not self.deleting:
            raise forms.ValidationError(_("Skriv en kommentar, eller ta bort den."))
        return text


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

    indicators = forms.ModelMultipleChoiceField(
        label=_("Styrmått som åtgärden avser"),
        queryset=Indicator.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ett styrmått som inte uppfylls behöver en pågående åtgärd."),
    )

    def __init__(self, *args, scorecard=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The indicators on the scorecard the unit follows in the report's year.
        self.fields["indicators"].queryset = Indicator.objects.filter(
            placements__scorecard=scorecard
        ).order_by("name", "code")
        if self.instance.pk and "indicators" not in self.initial:
            self.initial["indicators"] = list(self.instance.indicators.all())
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


# --------------------------------------------------------------------------- one indicator


@dataclass
class IndicatorForms:
    """The manager's form of one indicator: a value per breakdown, the analysis and the
    manual status, in one <form>. Each part can be saved on its own or all together, and
    what is typed in the others is kept (parts are named "value:<breakdown>", "analysis",
    "override")."""

    values: list[tuple[str, MeasurementForm, Measurement | None]]
    analysis: AnalysisForm
    override: OverrideForm
    stored_analysis: str = ""
    checked: list[str] = field(default_factory=list)  # the parts validated, in page order

    def validate(self, names: list[str]) -> bool:
        """Validate the parts to be saved (only those: the others may hold half-typed text),
        and show the others as typed, without judging them."""
        self.checked = [name for name in self.parts if name in names]
        valid = all([self.parts[name].is_valid() for name in self.checked])
        self.values = [
            (b, form if f"value:{b}" in self.checked else _as_typed(form), m)
            for b, form, m in self.values
        ]
        if "analysis" not in self.checked:
            self.analysis = _as_typed(self.analysis)
        if "override" not in self.checked:
            self.override = _as_typed(self.override)
        return valid

    @property
    def parts(self) -> dict[str, forms.Form]:
        named: dict[str, forms.Form] = {f"value:{b}": form for b, form, _m in self.values}
        named["analysis"] = self.analysis
        named["override"] = self.override
        return named

    def edited(self) -> list[str]:  # before validate(), which unbinds the unchecked parts
        """The parts whose fields differ from what the page showed (typed by the user)."""
        return [name for name, form in self.parts.items() if self._differs(name, form, None)]

    def unsaved(self) -> list[str]:
        """The parts whose fields differ from what is stored: what "save all" saves."""
        return [
            name
            for name, form in self.parts.items()
            if self._differs(name, form, self.stored_analysis)
        ]

    def _differs(self, name: str, form: forms.Form, stored: str | None) -> bool:
        if name != "analysis":
            return form.has_changed()
        posted = same_lines(form.data.get(form.add_prefix("analysis")))
        shown = same_lines(form.initial.get("analysis")) if stored is None else same_lines(stored)
        return posted != shown

    def errors(self) -> list[tuple[str, str, str]]:
        """(field id, what, message) of every error, in the page's order."""
        found = []
        for name in self.checked:
            form = self.parts[name]
            if not form.errors:
                continue
            what = self.title(name)
            for field_name, messages in form.errors.items():
                if field_name == NON_FIELD_ERRORS:
                    target = f"part-{name.replace(':', '-')}"
                    label = what
                else:
                    target = form[field_name].id_for_label
                    label = f"{what}, {str(form.fields[field_name].label).lower()}"
                found.extend((target, label, message) for message in messages)
        return found

    def focus_first_error(self) -> None:
        """The first field with an error gets the focus when the page loads (autofocus)."""
        for name in self.checked:
            form = self.parts[name]
            if form.errors:
                for field_name in form.fields:
                    if field_name in form.errors:
                        form.fields[field_name].widget.attrs["autofocus"] = True
                        return
                return

    def title(self, name: str) -> str:
        if name.startswith("value:"):
            return str(_("Utfall (%(breakdown)s)") % {"breakdown": breakdown_label(name[6:])})
        return str(_("Analys") if name == "analysis" else _("Manuell bedömning"))


def _as_typed[F: forms.Form](form: F) -> F:
    """An unbound copy showing what was typed in a bound form (rendering a bound form would
    validate it and show errors for a part the user did not ask to save)."""
    if not form.is_bound:
        return form
    typed = {name: form.data.get(form.add_prefix(name), "") for name in form.fields}
    if isinstance(form, MeasurementForm):
        return MeasurementForm(  # type: ignore[return-value]
            indicator=form.indicator, breakdown=form.breakdown, initial=typed, prefix=form.prefix
        )
    return type(form)(initial=typed, prefix=form.prefix)


class DeadlineForm(forms.Form):
    """An administrator's deadline for a report period (scorecard.deadlines.set_deadline)."""

    period = forms.CharField(
        label=_("Period"),
        max_length=7,
        help_text=_("Till exempel 2026-T1, 2026-05 eller 2026."),
    )
    due_date = forms.DateField(label=_("Sista dag"), widget=DateInput(format="%Y-%m-%d"))
    remind_days_before = forms.IntegerField(
        label=_("Påminn antal dagar före"),
        min_value=0,
        max_value=60,
        initial=7,
        help_text=_("Cheferna påminns så många dagar före sista dagen, och på dagen."),
    )

    def clean_period(self) -> str:
        try:
            return Period.parse(self.cleaned_data["period"].strip()).code
        except InvalidPeriod:
            raise forms.ValidationError(
                _("Ange en period som 2026-T1, 2026-05 eller 2026.")
            ) from None
