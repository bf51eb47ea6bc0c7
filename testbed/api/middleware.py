"""Response-header middleware of the testbed."""

from __future__ import annotations

from django.conf import settings


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
