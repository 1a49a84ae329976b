from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BenchmarksConfig(AppConfig):
    name = "benchmarks"
    verbose_name = _("Jämförelser (Kolada)")

    def ready(self) -> None:
        # Beat sends the task by name: register it in every process (see indicators.apps).
        from . import tasks  # noqa: F401
