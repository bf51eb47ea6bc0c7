"""A leftover debug view, mounted only while the ``debug_route`` flaw is on.

INTENTIONALLY VULNERABLE (debug_route): "we needed it to chase a login bug in staging".
The view is AllowAny, nothing links it and the schema leaves it out (``exclude=True``), so
the team believes nobody can find it. It returns the deployment's configuration, with the
database password and the cloud credentials the app runs with, and every account with
its password hash. The hardened testbed does not mount it (404).
"""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

# The deployment's environment as the view shows it: made up per start (the real process
# environment of a test machine has no business in a report), shaped like a real one.
_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "project.settings",
    "DATABASE_URL": "postgres://app:%s@db.internal:5432/app" % secrets.token_urlsafe(12),
    "AWS_ACCESS_KEY_ID": "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16)),
    "AWS_SECRET_ACCESS_KEY": secrets.token_urlsafe(30),
    "STRIPE_SECRET_KEY": "sk_live_" + secrets.token_hex(12),
    "LOG_LEVEL": "debug",
}


class DebugView(APIView):
    """GET /api/debug/ -> {"environment": {...}, "users": [{id, username, email, password}]}."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request):
        users = [
            {"id": u.pk, "username": u.get_username(), "email": u.email, "password": u.password}
            for u in get_user_model().objects.order_by("id")
        ]
        return Response({"debug": True, "environment": _ENVIRONMENT, "users": users})
