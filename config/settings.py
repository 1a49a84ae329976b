"""Settings for Styrkort.

Everything that differs between a laptop and production comes from the environment.
With nothing set, the app runs on an embedded SQLite database and runs Celery tasks
in-process, so that a fresh clone starts with one command.
"""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)
# The embedded default (no DATABASE_URL) is a developer's machine: a fixed dev key is fine
# there. Anywhere with a real database, a missing SECRET_KEY is an error, not a fallback.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if os.environ.get("DATABASE_URL") and not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set.")
    SECRET_KEY = "django-insecure-styrkort-embedded-development-key-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The project's apps, bottom layer first (README, "Layout"); domain/ and api/ are
    # plain packages.
    "audit",
    "accounts",
    "divisions",
    "sso",
    "scorecard",
    "indicators",
    "benchmarks",
    "dashboard",
    "reporting",
    "demo",
]

MIDDLEWARE = [
    # First: the request id and the request's log line and metrics cover everything below.
    "config.request_log.RequestObservationMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the app itself, so gunicorn alone is a complete server (README
    # "Running without Docker"); in compose nginx answers /static/ before it gets here.
    "config.static.StaticFilesMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.locale.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages and API data for a signed-in user or a key: private, no-store (not static files,
    # answered above).
    "config.security.PrivateNoStoreMiddleware",
    # Secure by default: every view needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # The admin pages are for administrators only: everyone else gets 403, not a form.
    "config.security.AdminOnlyForAdministratorsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # csp_nonce; a response names a nonce in its policy only if a template
                # used it (today the ReDoc page, api/docs.py).
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'var' / 'styrkort.sqlite3'}",
        # Persistent connections: a new connection per request cost ~9x throughput here.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, reading timestamps in C (config/postgresql/base.py says why).
    DATABASES["default"]["ENGINE"] = "config.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Local passwords first: they never touch the network, so the break-glass login works
# while the identity provider is down. The OIDC backend only answers the SSO callback.
AUTHENTICATION_BACKENDS = ["sso.backends.LocalPasswordBackend", "sso.backends.OidcBackend"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise reads the files where the code has them (static/ and the apps'), not only
# from STATIC_ROOT: without Docker there is no collectstatic step to forget after an update.
WHITENOISE_USE_FINDERS = True
# The Docker image (STYRKORT_STATIC_MANIFEST=1, set in the Dockerfile) collects its static
# files under names with a content hash, and a .gz of each: nginx and WhiteNoise let
# browsers keep those for a year and send them compressed (deploy/nginx.conf). Not in a
# checkout: names with a hash need collectstatic first, which `make demo` and the tests
# do not run.
if os.environ.get("STYRKORT_STATIC_MANIFEST") == "1":
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

# Celery: without a broker, tasks run in-process (demo and unit tests).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The worker logs through settings.LOGGING (config/celery.py), as JSON like the web.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Shared state in Redis (the broker's database unless STYRKORT_CACHE_URL names another):
# liveness timestamps of beat and of tasks (config/heartbeats.py), and the rate state of
# API throttling and sign-in limits (accounts/rates.py), which every web process must see.
# Without Redis (`make demo`: one process) this process's memory serves.
STYRKORT_CACHE_URL = os.environ.get("STYRKORT_CACHE_URL", "") or CELERY_BROKER_URL
_REDIS = STYRKORT_CACHE_URL.startswith(("redis://", "rediss://"))


def _shared_cache(prefix: str) -> dict:
    if not _REDIS:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": prefix}
    return {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": STYRKORT_CACHE_URL,
        "KEY_PREFIX": prefix,
        "TIMEOUT": None,
        # A Redis that hangs must not hold a request: the callers let it through instead.
        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2},
    }


CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Rendered pages, per process, filed under the data version (dashboard/page_cache.py):
    # a lookup is a dict read, and a stale entry can never be served. A scorecard page is a
    # few hundred kB, so at most 200 of them.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "styrkort-pages",
        "TIMEOUT": 3600,
        "OPTIONS": {"MAX_ENTRIES": 200},
    },
    "heartbeats": _shared_cache("styrkort-heartbeat"),
    "rates": _shared_cache("styrkort-rate"),
}
# Worker processes are recycled: after this many tasks, or once a task leaves the process
# above this resident size (KiB), a fresh one takes its place (memory freed by Python is
# seldom given back to the system).
CELERY_WORKER_MAX_TASKS_PER_CHILD = int(os.environ.get("CELERY_WORKER_MAX_TASKS_PER_CHILD", "100"))
CELERY_WORKER_MAX_MEMORY_PER_CHILD = int(
    os.environ.get("CELERY_WORKER_MAX_MEMORY_PER_CHILD", str(512 * 1024))
)
# A broker that is down or hangs (a stopped Redis accepts connections and never answers)
# must not hold a web request: connect and socket timeouts, one quick publish retry. An
# upload then answers 503 in seconds; its import stays queued and the sweep sends it.
STYRKORT_BROKER_TIMEOUT_SECONDS = float(os.environ.get("STYRKORT_BROKER_TIMEOUT_SECONDS", "3"))
CELERY_BROKER_CONNECTION_TIMEOUT = STYRKORT_BROKER_TIMEOUT_SECONDS
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": STYRKORT_BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": STYRKORT_BROKER_TIMEOUT_SECONDS,
    "socket_keepalive": True,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.5,
    "interval_max": 0.5,
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes DRF answer anonymous requests with 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttling.UserRateThrottle",
        "accounts.throttling.ExportRateThrottle",
    ],
    "DEFAULT_FILTER_BACKENDS": ["api.organisation.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.base.api_exception_handler",
    # Decimals are exact strings in JSON ("92.5"), DRF's default (api/values/serializers.py).
    "COERCE_DECIMAL_TO_STRING": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Styrkort API",
    "DESCRIPTION": (
        "Balanced-scorecard data of the region: organisation, scorecard structure, "
        "measurements, goal fulfilment and action plans. Authenticate with "
        "`Authorization: Token <key>` (keys on your profile page). CSV and XLSX via the "
        "Accept header or `?format=csv|xlsx`."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "ENUM_NAME_OVERRIDES": {
        "StatusEnum": "scorecard.models.StatusChoices",
        "ActionStatusEnum": "scorecard.models.ActionStatus",
    },
}
# API: CSV/XLSX exports and wide tables refuse more rows than this, saying how to page.
STYRKORT_API_EXPORT_LIMIT = int(os.environ.get("STYRKORT_API_EXPORT_LIMIT", "100000"))
# Requests per user, all their tokens and their browser session together, counted across
# every web process (Redis); DRF rate syntax ("1200/min", "60/hour"), empty = no throttling.
STYRKORT_API_THROTTLE_RATE = os.environ.get("STYRKORT_API_THROTTLE_RATE", "1200/min")
# CSV and XLSX exports per user, in a budget of their own (they also count above).
STYRKORT_API_EXPORT_THROTTLE_RATE = os.environ.get("STYRKORT_API_EXPORT_THROTTLE_RATE", "60/hour")

# Imports: files above this size are refused before any row is read.
STYRKORT_IMPORT_MAX_BYTES = int(os.environ.get("STYRKORT_IMPORT_MAX_BYTES", str(200 * 1024 * 1024)))
# What one file may hold (domain.exchange.format.Limits): rows (the header included) and
# columns; an XLSX archive's members, the uncompressed size of a worksheet and of the parts
# the parser holds whole, and the compression ratio (a larger one is a zip bomb). Checked
# before the XML is parsed; a file beyond any is refused with a message naming the limit.
STYRKORT_IMPORT_MAX_ROWS = int(os.environ.get("STYRKORT_IMPORT_MAX_ROWS", "2000000"))
STYRKORT_IMPORT_MAX_COLUMNS = int(os.environ.get("STYRKORT_IMPORT_MAX_COLUMNS", "100"))
STYRKORT_IMPORT_XLSX_MAX_MEMBERS = int(os.environ.get("STYRKORT_IMPORT_XLSX_MAX_MEMBERS", "1000"))
STYRKORT_IMPORT_XLSX_MAX_SHEET_BYTES = int(
    os.environ.get("STYRKORT_IMPORT_XLSX_MAX_SHEET_BYTES", str(512 * 1024 * 1024))
)
STYRKORT_IMPORT_XLSX_MAX_PART_BYTES = int(
    os.environ.get("STYRKORT_IMPORT_XLSX_MAX_PART_BYTES", str(64 * 1024 * 1024))
)
STYRKORT_IMPORT_XLSX_MAX_RATIO = int(os.environ.get("STYRKORT_IMPORT_XLSX_MAX_RATIO", "100"))
# Uploaded import files are kept under MEDIA_ROOT/imports/ for the worker and as evidence:
# web and worker must share this directory (a volume in production).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# Inbox folder scanned by Celery beat (empty = no inbox); files move to done/ or failed/.
STYRKORT_IMPORT_INBOX = os.environ.get("STYRKORT_IMPORT_INBOX", "")
# A file is taken when two scans this far apart saw it unchanged, and nothing has it open
# (indicators/imports/inbox.py), so half-written files are left alone. 0: at once (tests).
STYRKORT_IMPORT_INBOX_SETTLE_SECONDS = float(
    os.environ.get("STYRKORT_IMPORT_INBOX_SETTLE_SECONDS", "30")
)
# A running import whose worker has not been heard from for this long is taken over.
STYRKORT_IMPORT_STALE_SECONDS = int(os.environ.get("STYRKORT_IMPORT_STALE_SECONDS", "60"))
# A queued import is sent again by the sweep when its message seems lost (run_import is safe
# to run twice), or when it was never sent (the broker was down when it came in).
STYRKORT_IMPORT_RESEND_SECONDS = float(os.environ.get("STYRKORT_IMPORT_RESEND_SECONDS", "600"))
STYRKORT_IMPORT_UNSENT_SECONDS = float(os.environ.get("STYRKORT_IMPORT_UNSENT_SECONDS", "60"))
# An import the database broke off (connection lost, serialization failure, deadlock) is
# tried again this many times, after 5, 10, 20 ... s (then failed, with why).
STYRKORT_IMPORT_DB_RETRIES = int(os.environ.get("STYRKORT_IMPORT_DB_RETRIES", "5"))
STYRKORT_IMPORT_DB_RETRY_SECONDS = float(os.environ.get("STYRKORT_IMPORT_DB_RETRY_SECONDS", "5"))
# A manual edit of a value an import is writing gives up after this long (milliseconds) and
# says so, rather than wait for the import's transaction.
STYRKORT_EDIT_LOCK_TIMEOUT_MS = int(os.environ.get("STYRKORT_EDIT_LOCK_TIMEOUT_MS", "2000"))
# Imports are applied in the order received: one whose turn has not come yet (an earlier
# one is queued or running) looks again after this long.
STYRKORT_IMPORT_ORDER_RETRY_SECONDS = float(
    os.environ.get("STYRKORT_IMPORT_ORDER_RETRY_SECONDS", "5")
)
# Time limits of one run of an import (its preview or its application), in seconds: at the
# soft limit the run is rolled back and the import failed with the reason; at the hard
# limit the worker process running it is killed (if the soft limit could not stop it) and
# the import failed the same way. 0 = none. They travel with each task message, so web,
# worker and beat need the same values. Not in the demo, which runs imports in-process.
STYRKORT_IMPORT_SOFT_TIME_LIMIT_SECONDS = float(
    os.environ.get("STYRKORT_IMPORT_SOFT_TIME_LIMIT_SECONDS", "900")
)
STYRKORT_IMPORT_TIME_LIMIT_SECONDS = float(
    os.environ.get("STYRKORT_IMPORT_TIME_LIMIT_SECONDS", "960")
)
# A preview left without a decision this long is discarded (by the sweep, or when someone
# tries to apply it): applied days later it could undo what was imported meanwhile.
STYRKORT_IMPORT_PREVIEW_HOURS = float(os.environ.get("STYRKORT_IMPORT_PREVIEW_HOURS", "24"))
# How often a running import writes its progress (and heartbeat).
STYRKORT_IMPORT_PROGRESS_SECONDS = float(os.environ.get("STYRKORT_IMPORT_PROGRESS_SECONDS", "2"))
CELERY_BEAT_SCHEDULE = {
    "scan-import-inbox": {"task": "indicators.tasks.scan_import_inbox", "schedule": 60.0},
    "sweep-imports": {"task": "indicators.tasks.sweep_imports", "schedule": 60.0},
    # Liveness of beat and of a worker, for the metrics (config/celery.py).
    "heartbeat": {"task": "config.heartbeat", "schedule": 60.0},
}

# National comparison from Kolada (README "National comparison (Kolada)"). The region and
# peers are Kolada area ids: regions 0001-0025 (Norrbotten 0025), the country is 0000.
STYRKORT_KOLADA_URL = os.environ.get("STYRKORT_KOLADA_URL", "https://api.kolada.se/v3")
STYRKORT_KOLADA_REGION = os.environ.get("STYRKORT_KOLADA_REGION", "0025")
STYRKORT_KOLADA_PEERS = env_list("STYRKORT_KOLADA_PEERS", "0022,0023,0024")
STYRKORT_KOLADA_YEARS = int(os.environ.get("STYRKORT_KOLADA_YEARS", "10"))
STYRKORT_KOLADA_TIMEOUT_SECONDS = float(os.environ.get("STYRKORT_KOLADA_TIMEOUT_SECONDS", "10"))
STYRKORT_KOLADA_RETRIES = int(os.environ.get("STYRKORT_KOLADA_RETRIES", "2"))
# Beat runs the sync daily; off by default, as a server without internet access would only
# log a failure every day.
STYRKORT_KOLADA_SYNC = env_bool("STYRKORT_KOLADA_SYNC", default=False)
# Serve the dashboard's pages from the rendered-page cache while the data is unchanged
# (off: every request renders, as on SQLite).
STYRKORT_PAGE_CACHE = env_bool("STYRKORT_PAGE_CACHE", default=True)
CELERY_BEAT_SCHEDULE["sync-benchmarks"] = {
    "task": "benchmarks.tasks.sync_benchmarks",
    "schedule": 24 * 60 * 60.0,
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=True)
    # TLS ends at the proxy in front, which forwards X-Forwarded-Proto; the container's
    # health check sends it too, and /healthz is exempt for probes that cannot.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    # /metrics too: Prometheus scrapes gunicorn inside the private network, with its token.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Plain HTTP on this machine only, to try production settings without a TLS proxy
    # (README "Running without Docker"): no redirect to https, cookies without Secure.
    if env_bool("STYRKORT_LOOPBACK_HTTP"):
        _remote = [h for h in ALLOWED_HOSTS if h not in {"127.0.0.1", "localhost", "[::1]"}]
        if _remote:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                "STYRKORT_LOOPBACK_HTTP is for 127.0.0.1/localhost only, but ALLOWED_HOSTS "
                f"also has {', '.join(_remote)}; serve those over HTTPS."
            )
        SECURE_SSL_REDIRECT = SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy (Django's own middleware): scripts and styles only from our own
# origin, never inline; JSON data blocks (<script type="application/json">) are not run.
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Sign-in limits (accounts/logins.py), counted over the lock time in Redis: failures of one
# user name from one address, of one address for any names, and of one name from all
# addresses (the last locks only browsers that never signed in to that account).
STYRKORT_LOGIN_MAX_FAILURES = int(os.environ.get("STYRKORT_LOGIN_MAX_FAILURES", "5"))
STYRKORT_LOGIN_MAX_FAILURES_PER_ADDRESS = int(
    os.environ.get("STYRKORT_LOGIN_MAX_FAILURES_PER_ADDRESS", "20")
)
STYRKORT_LOGIN_MAX_FAILURES_PER_ACCOUNT = int(
    os.environ.get("STYRKORT_LOGIN_MAX_FAILURES_PER_ACCOUNT", "50")
)
STYRKORT_LOGIN_LOCK_SECONDS = int(os.environ.get("STYRKORT_LOGIN_LOCK_SECONDS", "900"))
# Proxies whose X-Forwarded-For is believed (IPs or CIDR networks, comma-separated): nginx
# in compose. Empty: the client is REMOTE_ADDR.
STYRKORT_TRUSTED_PROXIES = env_list("STYRKORT_TRUSTED_PROXIES")

# --- Single sign-on over OpenID Connect (sso/, README "Single sign-on") ----------------
# Off unless STYRKORT_OIDC_ISSUER is set: `make demo` keeps its local demo users.
STYRKORT_OIDC_ISSUER = os.environ.get("STYRKORT_OIDC_ISSUER", "").strip().rstrip("/")
OIDC_RP_CLIENT_ID = os.environ.get("STYRKORT_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("STYRKORT_OIDC_CLIENT_SECRET", "")
OIDC_RP_SCOPES = os.environ.get("STYRKORT_OIDC_SCOPES", "openid email profile")
OIDC_RP_SIGN_ALGO = os.environ.get("STYRKORT_OIDC_SIGN_ALGO", "RS256")
# Endpoints come from the issuer's discovery document (sso/provider.py); set these only for
# a provider without one.
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
STYRKORT_OIDC_END_SESSION_ENDPOINT = os.environ.get("OIDC_OP_END_SESSION_ENDPOINT", "")
OIDC_USE_PKCE = env_bool("STYRKORT_OIDC_USE_PKCE", default=True)
OIDC_TIMEOUT = int(os.environ.get("STYRKORT_OIDC_TIMEOUT", "10"))
# Kept in the session for RP-initiated logout (its id_token_hint).
OIDC_STORE_ID_TOKEN = True
OIDC_OP_LOGOUT_URL_METHOD = "sso.views.provider_logout_url"
# Which claims carry the groups and the user name, and what the groups give (sso/mapping.py).
STYRKORT_OIDC_GROUPS_CLAIM = os.environ.get("STYRKORT_OIDC_GROUPS_CLAIM", "groups")
STYRKORT_OIDC_USERNAME_CLAIM = os.environ.get("STYRKORT_OIDC_USERNAME_CLAIM", "preferred_username")
STYRKORT_OIDC_GROUP_MAP = os.environ.get("STYRKORT_OIDC_GROUP_MAP", "")
# With local passwords off, only these user names may still sign in with a password.
STYRKORT_LOCAL_PASSWORDS = env_bool("STYRKORT_LOCAL_PASSWORDS", default=True)
STYRKORT_BREAK_GLASS_USERS = env_list("STYRKORT_BREAK_GLASS_USERS", "admin")
# API tokens of SSO users who have not signed in for this many days are revoked by a daily
# check (0 = never: tokens are then revoked only when a sign-in is refused).
STYRKORT_OIDC_TOKEN_IDLE_DAYS = int(os.environ.get("STYRKORT_OIDC_TOKEN_IDLE_DAYS", "0"))
CELERY_BEAT_SCHEDULE["revoke-tokens-of-absent-sso-users"] = {
    "task": "sso.tasks.revoke_tokens_of_absent_users",
    "schedule": 24 * 60 * 60.0,
}
if STYRKORT_OIDC_ISSUER:
    # Logging out posts a form that redirects to the provider's end-session endpoint, and
    # form-action covers where a form's redirects lead too.
    from urllib.parse import urlsplit

    _issuer = urlsplit(STYRKORT_OIDC_ISSUER)
    SECURE_CSP["form-action"] = [CSP.SELF, f"{_issuer.scheme}://{_issuer.netloc}"]

# --- The reporting cycle: e-mail reminders (README "Reporting cycle") --------------------
# Django's e-mail backend, over SMTP by default; EMAIL_BACKEND may name another.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "styrkort@localhost")
# The site's address as the managers open it: the reminders' links start with it.
STYRKORT_SITE_URL = os.environ.get("STYRKORT_SITE_URL", "http://localhost:8000").rstrip("/")
# Reminders for the deadlines that are N days ahead or today (reporting.tasks): hourly, so
# that a restarted beat does not skip a day; each reminder goes out once (ReminderSent).
CELERY_BEAT_SCHEDULE["send-deadline-reminders"] = {
    "task": "reporting.tasks.send_deadline_reminders",
    "schedule": 60 * 60.0,
}

# --- Operations: logs and metrics (README "Operations") -----------------------------------
from config.logs import logging_config  # noqa: E402

# JSON lines by default (a log collector reads them); text for a person at a terminal.
STYRKORT_LOG_FORMAT = os.environ.get("STYRKORT_LOG_FORMAT", "text" if DEBUG else "json")
STYRKORT_LOG_LEVEL = os.environ.get("STYRKORT_LOG_LEVEL") or os.environ.get("LOG_LEVEL", "INFO")
LOGGING = logging_config(level=STYRKORT_LOG_LEVEL, fmt=STYRKORT_LOG_FORMAT)

# /metrics answers only a request with "Authorization: Bearer <this>"; empty = no endpoint.
STYRKORT_METRICS_TOKEN = os.environ.get("STYRKORT_METRICS_TOKEN", "")
# Optionally also only from these networks (CIDR, comma-separated; empty = any).
STYRKORT_METRICS_ALLOWED_NETWORKS = env_list("STYRKORT_METRICS_ALLOWED_NETWORKS")
# How long a scrape waits for the Celery workers to answer a ping (0 = no ping).
STYRKORT_METRICS_WORKER_PING_SECONDS = float(
    os.environ.get("STYRKORT_METRICS_WORKER_PING_SECONDS", "1")
)
