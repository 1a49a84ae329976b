from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("Styrmått")

    def ready(self) -> None:
        # Registers the tasks in every process, not only the worker: the services queue
        # them by name, and only a registered task runs in place when Celery is eager (the
        # demo, tests without a worker).
        from . import tasks  # noqa: F401
