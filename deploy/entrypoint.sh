#!/bin/sh
# Entrypoint for the Styrkort image (web, worker and beat containers).
#
# - Refuses to start with the placeholder SECRET_KEY from deploy/env.example, so a
#   stack started from the example file cannot run with a published key.
# - Applies database migrations when STYRKORT_MIGRATE_ON_START=1. docker-compose.yml sets
#   it on the web service only, so that worker and beat never race web on the schema.
#   If you scale web to several replicas, run migrations once instead
#   (`docker compose run --rm web python manage.py migrate`) and set it to 0.
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
fi

exec "$@"
