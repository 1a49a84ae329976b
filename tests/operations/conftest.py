"""The import pipeline's fixtures (a real Celery worker on Redis, folders, a cast of users),
reused: metrics and logs are checked on real imports."""

from tests.indicators.conftest import (  # noqa: F401  (fixtures, found by name)
    _import_settings,
    cast,
    celery_worker,
    eager_celery,
    import_folders,
    worker,
)
