from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    """The read side: selectors, charts, exports and the pages built from them."""

    name = "dashboard"
    verbose_name = _("Översikt")
