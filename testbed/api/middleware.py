"""Response-header middleware of the testbed."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse, JsonResponse


class ContentSecurityPolicyMiddleware:
    """Add settings.CONTENT_SECURITY_POLICY to every text/html response.

    Removed from MIDDLEWARE by the ``no_csp`` flaw.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY
        return response


class SessionFromQueryMiddleware:
    """INTENTIONALLY VULNERABLE (session_in_url): the session id is also read from the URL
    (``?sessionid=...``) "so the e-mailed deep links and the mobile web view stay logged in".

    Anyone who can put a link in front of the user can fix their session, and every proxy,
    access log and ``Referer`` header that sees such a URL holds a live session id.
    Installed (before SessionMiddleware) only while the flaw is on.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = settings.SESSION_COOKIE_NAME
        from_url = request.GET.get(name)
        if from_url and name not in request.COOKIES:
            request.COOKIES[name] = from_url
        return self.get_response(request)


# Every view that takes a username and password (URL names; "admin:login" is the admin's).
LOGIN_VIEW_NAMES = frozenset(
    {
        "token_obtain_pair",  # /api/token/
        "authtoken",  # /api-token-auth/
        "login",  # /accounts/login/
        "admin:login",  # /<ADMIN_URL>login/
        "partner_token",  # /api/rs/token/
        "kid_token",  # /api/kid/token/
        "es_token",  # /api/es/token/
        "rest_login",  # /dj-rest-auth/login/ (--apps dj-rest-auth)
        "knox_login",  # /api/auth/login/ (--apps knox)
    }
)
# Served as text/plain: the HTML logins.
HTML_LOGIN_VIEW_NAMES = frozenset({"login", "admin:login"})


class LoginPacingMiddleware:
    """throttled_login (not a flaw): at most settings.LOGIN_PACE_LIMIT POSTs per client per
    LOGIN_PACE_WINDOW_SECONDS on every login endpoint, successful logins included; beyond
    that 429 with ``Retry-After`` (a DRF Throttled-like JSON body; text/plain on the HTML
    logins). The failed-login limit (api.throttling.FailureLimiter) still applies on top.
    Installed (before CsrfViewMiddleware) only while the switch is on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from .throttling import login_pacer

        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEW_NAMES:
            return None
        if login_pacer.admit(request):
            return None
        wait = settings.LOGIN_PACE_WINDOW_SECONDS
        if match.view_name in HTML_LOGIN_VIEW_NAMES:
            response = HttpResponse(
                "Too many login attempts. Try again in %d seconds.\n" % wait,
                status=429,
                content_type="text/plain; charset=utf-8",
            )
        else:
            response = JsonResponse(
                {"detail": "Request was throttled. Expected available in %d seconds." % wait},
                status=429,
                json_dumps_params={"separators": (",", ":")},
            )
        response["Retry-After"] = str(wait)
        return response
