"""Settings, read from the environment only (see .env.example).

Safe defaults for a laptop: DEBUG on, SQLite in the data folder. With DEBUG off,
SECRET_KEY must be given.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: str) -> bool:
    value = os.getenv(name, default)
    if value.lower() in ("true", "1", "yes", "on"):
        return True
    if value.lower() in ("false", "0", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envnumber(name: str, default: str | None) -> float | None:
    """A number of minutes or seconds (None when unset and without default)."""
    value = os.getenv(name, default)
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if number < 0:
        raise ImproperlyConfigured(f"{name} must not be negative, not {value!r}")
    return number


def envsecret(name: str) -> str | None:
    """`NAME`, or the contents of the file named by `NAME_FILE` (Docker secrets)."""
    if path := os.getenv(f"{name}_FILE"):
        try:
            return Path(path).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from None
    return os.getenv(name)


DEBUG = envbool("DEBUG", "true")

SECRET_KEY = envsecret("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-do-not-deploy"  # noqa: S105

# Fernet keys for connection secrets at rest, comma-separated, newest first
# (`manage.py rotate_secrets` re-encrypts with the first). Default: derived from SECRET_KEY.
STUDIO_ENCRYPTION_KEYS = [k for k in (envsecret("STUDIO_ENCRYPTION_KEYS") or "").split(",") if k.strip()]

ALLOWED_HOSTS = [h for h in os.getenv("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

# The studio's own folder: the SQLite database, Sling's home and run logs.
DATA_DIR = Path(os.getenv("STUDIO_DATA_DIR", BASE_DIR / "data")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
SLING_HOME_DIR = DATA_DIR / "sling"
# The folders sling may read for `file://` streams and local connections, and those it may write
# too (`:rw`: targets, sqlite and duckdb databases), comma-separated, relative to the project
# folder (sling's working directory). The data folder (but its `files/`), the database, the key
# files, /proc, /sys and /dev are never open. The kernel enforces it (STUDIO_SANDBOX).
_roots = [
    ((BASE_DIR / root.strip().removesuffix(":rw")).resolve(), root.strip().endswith(":rw"))
    for root in os.getenv("STUDIO_FILE_ROOTS", f"demo/data,{DATA_DIR / 'files'}:rw").split(",")
    if root.strip()
]
STUDIO_FILE_ROOTS = [root for root, _ in _roots]
STUDIO_WRITABLE_ROOTS = [root for root, writable in _roots if writable]
# Every sling process (a run, Test, Discover) is confined by the kernel with Landlock
# (Linux 5.13+): it reads, writes and runs only what the studio allows. `required` refuses to start
# sling where the kernel cannot; `off` runs it with the text checks alone (README: the fence).
STUDIO_SANDBOX = os.getenv("STUDIO_SANDBOX", "required" if sys.platform == "linux" else "off")
if STUDIO_SANDBOX not in ("required", "off"):
    raise ImproperlyConfigured(f"STUDIO_SANDBOX must be required or off, not {STUDIO_SANDBOX!r}")
# Tests only: False switches the text checks off (the fence, the reach, `env:` names), so the
# tests show what the kernel alone stops. Never set from the environment.
STUDIO_TEXT_CHECKS = True
# Hosts a connection may send sling to (Test, Discover, runs): comma-separated host name patterns
# (`*.db.internal`) and networks (`10.0.0.0/8`); empty: any but link-local and metadata addresses.
# /metrics: scraped with this bearer token, or (without one) only from these networks.
STUDIO_METRICS_TOKEN = os.getenv("STUDIO_METRICS_TOKEN", "")
STUDIO_METRICS_NETWORKS = [
    ipaddress.ip_network(n.strip(), strict=False)
    for n in os.getenv("STUDIO_METRICS_NETWORKS", "127.0.0.0/8,::1/128").split(",")
    if n.strip()
]
STUDIO_CONNECTION_HOSTS = [
    h.strip() for h in os.getenv("STUDIO_CONNECTION_HOSTS", "").split(",") if h.strip()
]
# Hosts alert webhooks may be posted to, written the same way: a list of their own, since
# webhooks go to chat services outside and connections to databases inside.
STUDIO_WEBHOOK_HOSTS = [h.strip() for h in os.getenv("STUDIO_WEBHOOK_HOSTS", "").split(",") if h.strip()]
SLING_BINARY = os.getenv("SLING_BINARY", "")
# A `module.Class` subclassing replication.translator.DagsterSlingTranslator.
SLING_STUDIO_TRANSLATOR = os.getenv("SLING_STUDIO_TRANSLATOR", "")

# Schedules, monitoring and alerts (README: Schedules and alerts).
# Where people open the studio: the links in alerts are absolute. Unset, a channel's alerts link
# to the address it was added from in the browser (README: Schedules, retries and alerts).
STUDIO_BASE_URL = os.getenv("STUDIO_BASE_URL", "").rstrip("/")
# A due time a worker finds later than this is recorded as missed, not run.
# How many sling processes a worker's run may use at once for its streams (each on any free
# worker; connections' limits hold as well). 1: one process per run, as `sling run -r`.
STUDIO_RUN_PARALLEL = int(envnumber("STUDIO_RUN_PARALLEL", "4") or 1)
STUDIO_SCHEDULE_GRACE_MINUTES = envnumber("STUDIO_SCHEDULE_GRACE_MINUTES", "5")
# A stream without a freshness policy of its own (meta.dagster.freshness_policy, or its
# replication's setting) is stale after this long without a success; unset: never.
STUDIO_FRESHNESS_MINUTES = envnumber("STUDIO_FRESHNESS_MINUTES", None)
# Columns (README: Columns): those discovered older than this are read again in the background
# when a stream's panel shows them; sling's discover and preview answer within the seconds below,
# or are stopped (no server thread waits longer); a preview shows this many rows.
STUDIO_COLUMNS_MAX_AGE_MINUTES = envnumber("STUDIO_COLUMNS_MAX_AGE_MINUTES", "1440")
STUDIO_SLING_CALL_SECONDS = envnumber("STUDIO_SLING_CALL_SECONDS", "30")
STUDIO_PREVIEW_ROWS = int(envnumber("STUDIO_PREVIEW_ROWS", "20") or 20)
# Alert emails go through Django's mail settings.
EMAIL_HOST = os.getenv("EMAIL_HOST", "localhost")
EMAIL_PORT = int(envnumber("EMAIL_PORT", "25") or 25)
EMAIL_HOST_USER = os.getenv("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "false")
EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "false")
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "sling-studio@localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's widget templates, for the form renderer that reads the project's templates.
    "django.forms",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "axes",
    # The API's reference page and its vendored Swagger UI (studio/api/).
    "ninja",
    "studio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # What a request changes is recorded in the audit trail as done by its user or API token.
    "studio.middleware.AuditActorMiddleware",
    # Its own 400, 404 and 500 pages whatever DEBUG says (it needs the user, for the navigation).
    "studio.middleware.ErrorPagesMiddleware",
    # A NUL in the address or the query: 400 before any view or query reads it.
    "studio.middleware.NulCharactersMiddleware",
    # Every page needs a signed-in user, but the sign-in page (`login_not_required`).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "studio.middleware.ContentSecurityPolicyMiddleware",
    # Last: turns a sign-in refused by django-axes into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: a backend after ModelBackend would let a right password in during a lockout.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "studio.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.roles.context",
                "studio.context_processors.sling",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

# Every field drawn with its label, error and help by one piece of code (studio/forms/renderer.py).
FORM_RENDERER = "studio.forms.renderer.Renderer"

WSGI_APPLICATION = "studio.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.getenv("DATABASE_URL") or f"sqlite:///{DATA_DIR / 'studio.sqlite3'}",
        conn_max_age=int(os.getenv("DATABASE_CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (web workers, run workers) write at once: readers never wait (WAL),
    # a write transaction takes the lock when it begins (IMMEDIATE: no "database is locked"
    # when a reader later wants to write) and waits up to 20 s for it.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        init_command="PRAGMA journal_mode=WAL;", transaction_mode="IMMEDIATE", timeout=20
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Built lineage graphs, keyed by a generation of the data they are built from.
    "lineage": {"BACKEND": "studio.cache.ObjectCache", "OPTIONS": {"MAX_ENTRIES": 16}},
    # The editor's: each version's streams and problems (studio/editor_cache.py), read-only.
    "editor": {"BACKEND": "studio.cache.ObjectCache", "TIMEOUT": 300, "OPTIONS": {"MAX_ENTRIES": 64}},
}

# Runs queued from the browser wait in the database until `manage.py worker` executes them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "static"

X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = [o for o in os.getenv("CSRF_TRUSTED_ORIGINS", "").split(",") if o]
# With SECURE_SSL_REDIRECT (production), a load balancer's and Prometheus's plain-HTTP probes
# still get their answer, not a redirect.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
if not DEBUG:
    # Production: HTTPS only. Behind a proxy that terminates TLS, set
    # SECURE_PROXY_SSL_HEADER=true so Django trusts its X-Forwarded-Proto.
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.getenv("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if envbool("SECURE_PROXY_SSL_HEADER", "false"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# A pasted replication may be as large as the parser accepts (10 MB), plus the form around it.
DATA_UPLOAD_MAX_MEMORY_SIZE = 11 * 1024 * 1024

# Errors (with tracebacks) go to stderr in production too, where the process manager keeps them.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING")},
        # Each failed sign-in and lockout, with the user name and address masked.
        "axes": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "WARNING"), "propagate": False},
    },
}

# Sign-in throttling (django-axes): after 5 failed sign-ins of one user from one address, that
# user is refused from that address for 15 minutes (each refused try starts them again); an
# admin unlocks at once by deleting the "Access attempt" in the admin, or `manage.py axes_reset`.
AXES_FAILURE_LIMIT = int(os.getenv("STUDIO_SIGNIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.getenv("STUDIO_SIGNIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "studio.views.errors.locked_out"
# Behind a reverse proxy every request comes from its address: name it (comma-separated) and the
# client's address is the last one it adds to X-Forwarded-For.
STUDIO_TRUSTED_PROXIES = [p.strip() for p in os.getenv("STUDIO_TRUSTED_PROXIES", "").split(",") if p.strip()]
AXES_CLIENT_IP_CALLABLE = "studio.middleware.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Single sign-on with OpenID Connect (mozilla-django-oidc; README: Signing in with your identity
# provider). Off while STUDIO_OIDC_ISSUER is unset. The provider's endpoints and keys are read from
# its discovery document when someone signs in (studio/sso.py), never at start-up.
STUDIO_OIDC_ISSUER = os.getenv("STUDIO_OIDC_ISSUER", "").rstrip("/")
STUDIO_OIDC_NAME = os.getenv("STUDIO_OIDC_NAME", "single sign-on")
# The claim that lists a person's groups at the provider, and which group gives which role:
# `group=role,...` (a person in several mapped groups has every role they give; in none, a viewer).
STUDIO_OIDC_GROUPS_CLAIM = os.getenv("STUDIO_OIDC_GROUPS_CLAIM", "groups")
STUDIO_OIDC_ROLES: dict[str, str] = {}
for _pair in filter(None, (p.strip() for p in os.getenv("STUDIO_OIDC_ROLES", "").split(","))):
    _group, _, _role = _pair.rpartition("=")
    if not _group.strip() or _role.strip() not in ("viewer", "editor", "operator", "admin"):  # studio.roles
        raise ImproperlyConfigured(
            f"STUDIO_OIDC_ROLES: {_pair!r} is not GROUP=ROLE with a role of viewer, editor, operator, admin"
        )
    STUDIO_OIDC_ROLES[_group.strip()] = _role.strip()
OIDC_RP_CLIENT_ID = os.getenv("STUDIO_OIDC_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = envsecret("STUDIO_OIDC_CLIENT_SECRET") or ""
OIDC_RP_SCOPES = os.getenv("STUDIO_OIDC_SCOPES", "openid email profile groups")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = 10
OIDC_AUTHENTICATION_CALLBACK_URL = "sso-callback"
if STUDIO_OIDC_ISSUER and not (OIDC_RP_CLIENT_ID and OIDC_RP_CLIENT_SECRET):
    raise ImproperlyConfigured("STUDIO_OIDC_ISSUER needs STUDIO_OIDC_CLIENT_ID and STUDIO_OIDC_CLIENT_SECRET")
if STUDIO_OIDC_ISSUER:
    AUTHENTICATION_BACKENDS.append("studio.sso.Backend")
# Local accounts' passwords: off, the sign-in page offers single sign-on only, and a password is
# refused everywhere (the admin's sign-in too), since no backend checks one.
STUDIO_LOCAL_SIGNIN = envbool("STUDIO_LOCAL_SIGNIN", "true")
if not STUDIO_LOCAL_SIGNIN:
    if not STUDIO_OIDC_ISSUER:
        raise ImproperlyConfigured("STUDIO_LOCAL_SIGNIN=false needs STUDIO_OIDC_ISSUER: nobody could sign in")
    AUTHENTICATION_BACKENDS.remove("django.contrib.auth.backends.ModelBackend")
