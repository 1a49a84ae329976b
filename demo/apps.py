from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo and synthetic data: Division Nära's report and a generated multi-year region."""

    name = "demo"
    verbose_name = _("Demodata")
