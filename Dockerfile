# Styrkort production image.
#
# Stages (docker-compose.yml picks them with `build.target`):
#   app     Python runtime for web (gunicorn), worker and beat (celery). Also the default
#           target, so a plain `docker build .` produces it.
#   static  nginx with the static files collected at build time baked in; it serves
#           /static/ and proxies everything else to web. Static files are immutable per
#           image build, so no shared volume has to be kept in sync between containers.
#
# Only the legacy builder's features are used (no heredocs, no cache mounts), so both
# docker-compose v1 and `docker compose` / BuildKit can build it.

FROM python:3.12-slim AS app

# PYTHONPATH: the source tree comes first on sys.path. Settings resolve templates/,
# static/ and locale/ relative to the config package, and those live in /app, not in
# the copy that `pip install .` puts in site-packages.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=config.settings \
    STATIC_ROOT=/app/staticfiles \
    STYRKORT_STATIC_MANIFEST=1 \
    STYRKORT_IMPORT_INBOX=/data/inbox \
    MEDIA_ROOT=/data/media

WORKDIR /app

RUN groupadd --system --gid 10001 styrkort \
    && useradd --system --uid 10001 --gid styrkort --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin styrkort

# WeasyPrint (the tagged PDF of the tertial report, dashboard/documents) draws text with
# Pango; a font with Swedish letters and the status symbols (● ◐ ○) is embedded in the PDF.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
       libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

COPY . /app

# Runtime dependencies only: the `dev` extra (pytest, ruff, playwright, ...) is not installed.
RUN pip install --no-cache-dir . \
    && rm -rf /app/build /app/*.egg-info

# Static files are collected into the image at build time. The key only satisfies
# settings at import; no database is touched and the key is never used at runtime.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret python manage.py collectstatic --noinput

# Writable paths for the non-root user. The code in /app stays root-owned and read-only.
# Named volumes mounted on /data/inbox start as a copy of this directory, so they
# inherit its ownership on first use.
RUN mkdir -p /data/inbox /data/media /data/beat \
    && chown -R styrkort:styrkort /data

USER styrkort:styrkort

EXPOSE 8000

ENTRYPOINT ["/bin/sh", "/app/deploy/entrypoint.sh"]
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--worker-tmp-dir", "/dev/shm", "--access-logfile", "-"]


FROM nginx:1.28.0-alpine AS static

COPY --from=app /app/staticfiles /usr/share/nginx/static

# Compression, caching of static files and the proxy to web: see the file itself.
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf


# Default target: the application image.
FROM app
