from django import forms
from django.utils.translation import gettext_lazy as _


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Fil (CSV eller Excel)"),
        help_text=_(
            "Kolumner: indicator, org_unit, period, breakdown, value, numerator, denominator, "
            "comment. Semikolon, decimalkomma och Windows-1252 från svenska Excel går bra."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
    )
    preview = forms.BooleanField(
        label=_("Förhandsgranska innan något skrivs"),
        required=False,
        initial=True,
        help_text=_("Visar vad som blir nytt och ändrat; du godkänner eller förkastar sedan."),
    )


class ImportAgainForm(forms.Form):
    """Import a file again on purpose: the same file is otherwise never used twice."""

    reason = forms.CharField(
        label=_("Skäl"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Till exempel: ”Återställer värdena från den första filen; rättelsen var fel.” "
            "Skälet sparas i ändringshistoriken."
        ),
    )
    preview = forms.BooleanField(
        label=_("Förhandsgranska innan något skrivs"),
        required=False,
        initial=True,
        help_text=_("Visar vad som blir nytt och ändrat; du godkänner eller förkastar sedan."),
    )
