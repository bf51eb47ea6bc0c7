"""Settings of the authprobe testbed.

Everything a careful team would configure is configured here; each flaw switch
(``project.flaws.flaw_on``) replaces one hardened setting with the mistake a real team
makes. Blocks marked INTENTIONALLY VULNERABLE are the ground truth the scanner must find.

Runtime values come from the environment, as in a twelve-factor deployment; ``serve.py``
sets them per start:

  TESTBED_FLAWS        comma-separated flaw names ("" = hardened)
  TESTBED_DB           path of this run's SQLite database
  TESTBED_TLS          "1" when served with --tls (HTTPS on TESTBED_PORT, HTTP on +1)
  TESTBED_PORT         the HTTPS (or only) port
  DJANGO_SECRET_KEY    strong random SECRET_KEY for this start
  JWT_SIGNING_KEY      strong random simplejwt HMAC key for this start
  ADMIN_URL            unguessable admin prefix, e.g. "staff-console-1f2e.../"
  TESTBED_KEYS_DIR     directory of this run's key-rotation HMAC key files (api.kid)
  TESTBED_MAIL_TO      "HOST:PORT" of a loopback SMTP listener (serve --mail-to), or ""
  TESTBED_VERBOSE      "1" to log every request to stderr
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from project.flaws import flaw_on

BASE_DIR = Path(__file__).resolve().parent.parent

TLS = os.environ.get("TESTBED_TLS") == "1"
HTTPS_PORT = int(os.environ.get("TESTBED_PORT", "0") or 0)
VERBOSE = os.environ.get("TESTBED_VERBOSE") == "1"

# --- Core --------------------------------------------------------------------------------

if flaw_on("default_django_key"):
    # INTENTIONALLY VULNERABLE (default_django_key): the key `startproject` wrote into
    # settings.py was committed and never replaced. It signs sessions, messages, password
    # reset links and (SIGNING_KEY not set) every simplejwt token. The scanner's Django key
    # wordlist must contain this exact value.
    SECRET_KEY = "django-insecure-7v#q2m!x9@h1w$k3p^r8t&z0u*b4n(e6)s-y+c=j%f5g_a~l"
else:
    SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or os.urandom(32).hex()

# INTENTIONALLY VULNERABLE (debug): DEBUG left on in a deployed settings file; unknown URLs
# get the technical 404 page (URLconf listing) and crashes the technical 500 page.
DEBUG = flaw_on("debug")

ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    # Third-party auth stacks; their URLs are mounted only with `serve --apps` (the apps
    # are always installed so that one template database serves every run).
    "dj_rest_auth",
    "knox",
    "drf_spectacular",
    "api",
]

# `serve --apps dj-rest-auth,knox`: which extra auth stacks are mounted.
TESTBED_APPS = frozenset(a for a in os.environ.get("TESTBED_APPS", "").split(",") if a)

# Header-setting middleware sits outermost so that every response carries the headers,
# including the HTTPS redirect issued by SecurityMiddleware and CORS preflight answers.
MIDDLEWARE = [
    "api.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

if flaw_on("session_in_url"):
    # INTENTIONALLY VULNERABLE (session_in_url): see api.middleware.SessionFromQueryMiddleware.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware"),
        "api.middleware.SessionFromQueryMiddleware",
    )

if flaw_on("no_csp"):
    # INTENTIONALLY VULNERABLE (no_csp): the CSP middleware was dropped "because it broke
    # the admin"; HTML pages (login form, admin, error pages) carry no CSP.
    MIDDLEWARE.remove("api.middleware.ContentSecurityPolicyMiddleware")

if flaw_on("no_security_headers"):
    # INTENTIONALLY VULNERABLE (no_security_headers): clickjacking middleware removed and
    # SecurityMiddleware's nosniff / Referrer-Policy switched off (see below).
    MIDDLEWARE.remove("django.middleware.clickjacking.XFrameOptionsMiddleware")

if flaw_on("throttled_login"):
    # Not a flaw (throttled_login): every login endpoint takes at most 3 POSTs per client
    # per rolling 2 seconds, successful ones included (429 + Retry-After: 2 beyond that);
    # the scan must pace itself. Its process_view runs before CSRF's, so every attempt counts.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.middleware.csrf.CsrfViewMiddleware"),
        "api.middleware.LoginPacingMiddleware",
    )

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

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
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("TESTBED_DB") or str(BASE_DIR / ".cache" / "dev.sqlite3"),
        # A throwaway per-start database: durability does not matter, concurrency does.
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA synchronous=OFF",
        },
    }
}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True
STATIC_URL = "static/"

# Testbed only: a fast hasher keeps logins instantaneous. (Not a flaw the scanner checks.)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if flaw_on("no_password_validators"):
    # INTENTIONALLY VULNERABLE (no_password_validators): the validators were emptied "because
    # the product team hated the error messages"; registration, the password change and the
    # reset form accept "password", "12345678", the username or a single character.
    AUTH_PASSWORD_VALIDATORS = []
else:
    AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ]

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Teams move the admin off /admin/ and read the prefix from the environment.
if flaw_on("admin_exposed"):
    # INTENTIONALLY VULNERABLE (admin_exposed): the admin login sits at the default /admin/.
    ADMIN_URL = "admin/"
else:
    ADMIN_URL = os.environ.get("ADMIN_URL") or "staff-console-%s/" % os.urandom(12).hex()

# --- Transport security -----------------------------------------------------------------

# Served behind nothing: no proxy headers are trusted.
SECURE_PROXY_SSL_HEADER = None
USE_X_FORWARDED_HOST = False

if flaw_on("reset_host_poisoning"):
    # INTENTIONALLY VULNERABLE (reset_host_poisoning): the "behind the load balancer" setup
    # copied from a blog post - any Host is allowed and X-Forwarded-Host is trusted although
    # no proxy sets it. request.get_host() now follows the client, and so does the domain of
    # the password-reset link (PasswordResetForm without django.contrib.sites uses
    # RequestSite): whoever asks for alice's reset picks the host her e-mailed link points to.
    # Nothing else changes for ordinary requests (Host 127.0.0.1:PORT or localhost); only
    # build_absolute_uri() links (API root, notes, receipts) and Django's same-host checks
    # (login ?next=, CSRF Referer over HTTPS) follow a spoofed host too.
    ALLOWED_HOSTS = ["*"]
    USE_X_FORWARDED_HOST = True

if flaw_on("no_hsts"):
    # INTENTIONALLY VULNERABLE (no_hsts): HSTS never enabled ("we'll turn it on later").
    SECURE_HSTS_SECONDS = 0
else:
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

if TLS and not flaw_on("no_https_redirect"):
    # Every plain-HTTP request (any method, any path) gets a 301 to the HTTPS listener.
    SECURE_SSL_REDIRECT = True
    SECURE_SSL_HOST = "127.0.0.1:%d" % HTTPS_PORT
else:
    # INTENTIONALLY VULNERABLE when served with --tls (no_https_redirect): the plain-HTTP
    # listener serves the whole app, login endpoints included.
    SECURE_SSL_REDIRECT = False

if flaw_on("no_security_headers"):
    # INTENTIONALLY VULNERABLE (no_security_headers): see MIDDLEWARE above.
    SECURE_CONTENT_TYPE_NOSNIFF = False
    SECURE_REFERRER_POLICY = None
else:
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"

# Strict policy for every text/html response (api.middleware.ContentSecurityPolicyMiddleware).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

# --- Cookies and sessions ---------------------------------------------------------------

if flaw_on("insecure_cookies"):
    # INTENTIONALLY VULNERABLE (insecure_cookies): defaults relaxed "so that the SPA on
    # http://localhost works": no Secure, session readable from JavaScript, no SameSite.
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_HTTPONLY = False
    SESSION_COOKIE_SAMESITE = None
    CSRF_COOKIE_SECURE = False
    CSRF_COOKIE_SAMESITE = None
else:
    # Secure is set even when the testbed is served over plain HTTP (loopback tests).
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # the SPA reads it to send X-CSRFToken; that is fine.
SESSION_COOKIE_AGE = 8 * 60 * 60
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- CORS (django-cors-headers) ---------------------------------------------------------

CORS_ALLOW_CREDENTIALS = True
if flaw_on("cors_reflect"):
    # INTENTIONALLY VULNERABLE (cors_reflect): with credentials allowed, "allow all"
    # makes django-cors-headers reflect any Origin, including "null".
    CORS_ALLOW_ALL_ORIGINS = True
else:
    CORS_ALLOWED_ORIGINS = ["https://app.example.com"]

# --- Django REST framework --------------------------------------------------------------

_auth_classes = ["api.authentication.ApiJWTAuthentication"]
if "knox" in TESTBED_APPS:
    _auth_classes.append("api.authentication.KnoxTokenAuthentication")
if flaw_on("query_token"):
    # INTENTIONALLY VULNERABLE (query_token): tokens also read from ?access_token= / ?token=
    # "for the CSV download links".
    _auth_classes.append("api.authentication.QueryStringJWTAuthentication")
if flaw_on("static_token"):
    # INTENTIONALLY VULNERABLE (static_token): DRF's stock TokenAuthentication; keys never
    # expire (and /api-token-auth/ hands out the same key on every login).
    _auth_classes.append("rest_framework.authentication.TokenAuthentication")
else:
    _auth_classes.append("api.authentication.ExpiringTokenAuthentication")
if flaw_on("csrf_exempt"):
    # INTENTIONALLY VULNERABLE (csrf_exempt): the well-known "CsrfExemptSessionAuthentication"
    # snippet; cookie-authenticated API writes need no CSRF token.
    _auth_classes.append("api.authentication.CsrfExemptSessionAuthentication")
else:
    _auth_classes.append("rest_framework.authentication.SessionAuthentication")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": _auth_classes,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "api.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Nothing sits in front of the app: the client address is REMOTE_ADDR.
    "NUM_PROXIES": 0,
    "DEFAULT_THROTTLE_RATES": {"register": "30/minute"},
    # drf-spectacular serves the OpenAPI 3 schema at /api/schema/ (what the API declares).
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
if flaw_on("xff_throttle_bypass"):
    # INTENTIONALLY VULNERABLE (xff_throttle_bypass): NUM_PROXIES left at DRF's default
    # (None), so throttles key on the client-supplied X-Forwarded-For header.
    REST_FRAMEWORK["NUM_PROXIES"] = None

# Failed-attempt limits (api.throttling): failures per window per key.
LOGIN_FAILURE_LIMIT = 10  # per (client IP, username) on every login endpoint
TOKEN_FAILURE_LIMIT = 10  # per client IP on refresh / verify / blacklist / password reset
FAILURE_WINDOW_SECONDS = 60
# throttled_login (api.middleware.LoginPacingMiddleware): every login POST counts.
LOGIN_PACE_LIMIT = 3
LOGIN_PACE_WINDOW_SECONDS = 2

# --- simplejwt --------------------------------------------------------------------------

if flaw_on("weak_secret"):
    # INTENTIONALLY VULNERABLE (weak_secret): a guessable HMAC key copied from a tutorial.
    _jwt_signing_key = "secret123"
elif flaw_on("numeric_secret") or flaw_on("expired_weak_key"):
    # INTENTIONALLY VULNERABLE (numeric_secret): "a PIN is enough for staging" - a 6-digit
    # key, drawn per start so only a search (not a list) recovers it.
    _jwt_signing_key = "%06d" % (100000 + secrets.randbelow(900000))
elif flaw_on("word_secret"):
    # INTENTIONALLY VULNERABLE (word_secret): a single English word as the key, drawn per
    # start from words no list of common secrets holds.
    _jwt_signing_key = secrets.choice(
        ["lantern", "marigold", "thimble", "quartz", "walrus", "parsnip", "juniper", "saffron", "pelican", "tundra"]
    )
elif flaw_on("default_django_key"):
    # INTENTIONALLY VULNERABLE (default_django_key): SIGNING_KEY not set, simplejwt falls
    # back to SECRET_KEY, i.e. the committed django-insecure key.
    _jwt_signing_key = SECRET_KEY
else:
    _jwt_signing_key = os.environ.get("JWT_SIGNING_KEY") or os.urandom(32).hex()

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": _jwt_signing_key,
    "AUDIENCE": "authprobe-testbed-api",
    "ISSUER": "https://testbed.local",
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_OBTAIN_SERIALIZER": "api.serializers.ApiTokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "api.serializers.ApiTokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "api.serializers.ApiTokenVerifySerializer",
}
if flaw_on("long_lifetime"):
    # INTENTIONALLY VULNERABLE (long_lifetime): "users complained about being logged out".
    SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] = timedelta(days=30)
    SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"] = timedelta(days=90)
if flaw_on("refresh_reuse"):
    # INTENTIONALLY VULNERABLE (refresh_reuse): rotation on, but the rotated-out refresh
    # token is not blacklisted, so a stolen refresh token keeps minting access tokens.
    SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"] = False
if flaw_on("missing_aud_iss"):
    # INTENTIONALLY VULNERABLE (missing_aud_iss): tokens are not bound to this API; any
    # token signed with the same key (another service, another environment) is accepted.
    SIMPLE_JWT["AUDIENCE"] = None
    SIMPLE_JWT["ISSUER"] = None

# Lifetime of the one-shot tokens from /api/token/ephemeral/ (used by download links).
EPHEMERAL_TOKEN_LIFETIME = timedelta(seconds=2)
# Key files of the key-rotation token family (/api/kid/, api.kid): one file per kid.
JWT_KEYS_DIR = os.environ.get("TESTBED_KEYS_DIR") or ""

# Lifetime of DRF authtoken keys (api.authentication.ExpiringTokenAuthentication).
AUTHTOKEN_LIFETIME = timedelta(hours=1)

# --- Password reset and e-mail ----------------------------------------------------------

if flaw_on("long_reset_timeout"):
    # INTENTIONALLY VULNERABLE (long_reset_timeout): Django's default left in place - a
    # reset link (it sits in mailboxes, forwarded mail, mail archives) works for 3 days.
    PASSWORD_RESET_TIMEOUT = 259200
else:
    PASSWORD_RESET_TIMEOUT = 3600  # one hour

DEFAULT_FROM_EMAIL = "testbed <noreply@testbed.invalid>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# `serve --mail-to HOST:PORT`: plain SMTP to a loopback listener (a scan's --mailbox sink).
_mail_host, _, _mail_port = os.environ.get("TESTBED_MAIL_TO", "").rpartition(":")
if _mail_host and _mail_port.isdigit():
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail_host
    EMAIL_PORT = int(_mail_port)
    EMAIL_HOST_USER = ""
    EMAIL_HOST_PASSWORD = ""
    EMAIL_USE_TLS = False
    EMAIL_USE_SSL = False
    EMAIL_TIMEOUT = 5
elif VERBOSE:
    # Printed to stderr (stdout carries only serve's `ready` line).
    EMAIL_BACKEND = "api.mail.StderrEmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# --- drf-spectacular ---------------------------------------------------------------------

SPECTACULAR_SETTINGS = {
    "TITLE": "authprobe testbed API",
    "VERSION": "1.0.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SERVE_INCLUDE_SCHEMA": False,
    "DISABLE_ERRORS_AND_WARNINGS": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.spec_drift_hook",
        "api.schema.receipt_examples_hook",
    ],
}

# --- dj-rest-auth (JWT mode) and knox, mounted with `serve --apps` -----------------------

REST_AUTH = {
    "USE_JWT": True,
    "JWT_AUTH_HTTPONLY": False,  # the refresh token is returned in the body
    "SESSION_LOGIN": False,
    "OLD_PASSWORD_FIELD_ENABLED": True,
    "LOGOUT_ON_PASSWORD_CHANGE": False,
    # The testbed's own token classes (audience, issuer, revocation generation).
    "JWT_TOKEN_CLAIMS_SERIALIZER": "api.serializers.ApiTokenObtainPairSerializer",
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=10),
    "AUTH_HEADER_PREFIX": "Token",
}

# --- Logging: quiet unless TESTBED_VERBOSE=1 ---------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": "INFO" if VERBOSE else "ERROR"},
    "loggers": {
        "django.request": {"level": "INFO" if VERBOSE else "CRITICAL"},
        "django.security": {"level": "INFO" if VERBOSE else "CRITICAL"},
        "django.server": {"level": "INFO" if VERBOSE else "CRITICAL"},
        # PasswordResetForm logs (and swallows) a reset mail it could not send.
        "django.contrib.auth": {"level": "INFO" if VERBOSE else "CRITICAL"},
    },
}
