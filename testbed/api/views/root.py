"""GET / - the API root with relative links to the main endpoints."""

from __future__ import annotations

from rest_framework import routers
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from project.flaws import flaw_on

LINKS = {
    "api": "/api/",
    "token": "/api/token/",
    "token_refresh": "/api/token/refresh/",
    "token_verify": "/api/token/verify/",
    "token_blacklist": "/api/token/blacklist/",
    "token_ephemeral": "/api/token/ephemeral/",
    "logout": "/api/logout/",
    "me": "/api/me/",
    "notes": "/api/notes/",
    "receipts": "/api/receipts/",
    "posts": "/api/posts/",
    "export": "/api/export/",
    "api_keys": "/api/keys/",
    "token_login": "/api/token-login/",
    "password_change": "/api/password/change/",
    "password_reset": "/api/password/reset/",
    "register": "/api/register/",
    "authtoken": "/api-token-auth/",
    "login": "/accounts/login/",
    "session_logout": "/accounts/logout/",
    "partner_token": "/api/rs/token/",
    "partner_me": "/api/rs/me/",
    "jwks": "/.well-known/jwks.json",
    "kid_token": "/api/kid/token/",
    "kid_me": "/api/kid/me/",
    "es_token": "/api/es/token/",
    "es_me": "/api/es/me/",
    "invites": "/api/invites/",
    "legacy_api_keys": "/api/v1/keys/",
    "pairing_codes": "/api/pairing-codes/",
    "directory": "/api/directory/",
}

# Endpoints that only exist while their flaw is on (legacy features the team kept).
FLAW_LINKS = {
    "admin_exposed": ("admin", "/admin/"),
    "state_changing_get": ("demo_reset", "/api/demo/reset/"),
}


def root_links() -> dict[str, str]:
    links = dict(LINKS)
    for flaw, (name, path) in FLAW_LINKS.items():
        if flaw_on(flaw):
            links[name] = path
    return links


@api_view(["GET", "HEAD"])
@authentication_classes([])
@permission_classes([AllowAny])
def api_root(request):
    return Response({"name": "authprobe testbed API", "version": "1.0", "links": root_links()})


class ApiRootView(routers.APIRootView):
    """GET /api/ - DRF's router root, public, plus the non-router endpoints."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        for name, path in root_links().items():
            if path.startswith("/api/") and path != "/api/" and name not in response.data:
                response.data[name] = request.build_absolute_uri(path)
        return response
