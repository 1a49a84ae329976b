#!/bin/sh
# Entrypoint for the Styrkort image (web, worker and beat containers).
#
# - Refuses to start with the placeholder SECRET_KEY from deploy/env.example, so a
#   stack started from the example file cannot run with a published key.
# - Applies database migrations when STYRKORT_MIGRATE_ON_START=1. docker-compose.yml sets
#   it on the web service only, so that worker and beat never race web on the schema.
#   If you scale web to several replicas, run migrations once instead
#   (`docker compose run --rm web python manage.py migrate`) and set it to 0.
# - Otherwise, with STYRKORT_WAIT_FOR_MIGRATIONS=1 (worker and beat), waits until every
#   migration of this image is applied before starting: after an upgrade, new code must not
#   run tasks against the old schema while web is still migrating. At the timeout
#   (STYRKORT_MIGRATION_WAIT_SECONDS, default 300) it exits non-zero and compose's restart
#   policy starts it again, so a long migration only delays the worker.
# - Then execs the command (gunicorn / celery), which becomes PID 1 and gets the signals.
#
# Static files are NOT collected here: the image collects them at build time.
set -eu

case "${SECRET_KEY:-}" in
    change-me*)
        echo "entrypoint: SECRET_KEY is still the placeholder from deploy/env.example." >&2
        echo "entrypoint: copy deploy/env.example to .env, set real secrets and STYRKORT_ENV_FILE=.env." >&2
        exit 64
        ;;
esac

if [ "${STYRKORT_MIGRATE_ON_START:-0}" = "1" ]; then
    python manage.py migrate --noinput
elif [ "${STYRKORT_WAIT_FOR_MIGRATIONS:-0}" = "1" ]; then
    python manage.py wait_for_migrations --timeout "${STYRKORT_MIGRATION_WAIT_SECONDS:-300}"
fi

exec "$@"
