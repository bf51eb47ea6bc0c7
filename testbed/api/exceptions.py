"""REST_FRAMEWORK["EXCEPTION_HANDLER"] of the testbed."""

from __future__ import annotations

import traceback

from rest_framework import status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from project.flaws import flaw_on


def api_exception_handler(exc, context):
    response = drf_exception_handler(exc, context)

    if response is None:
        if flaw_on("verbose_errors"):
            # INTENTIONALLY VULNERABLE (verbose_errors): "so the mobile team can file better
            # bug reports" - unhandled exceptions return their message and the full Python
            # traceback (file paths, code, framework internals) to any client.
            return Response(
                {"detail": str(exc), "traceback": "".join(traceback.format_exception(exc))},
                status=status.HTTP_500_INTERNAL_SERVER_ERROR,
            )
        # Hardened: let Django render its generic 500 page (technical page only with DEBUG).
        return None

    if flaw_on("no_www_authenticate") and isinstance(exc, NotAuthenticated):
        # INTENTIONALLY VULNERABLE (no_www_authenticate): the frontend wanted one fixed body
        # for "not logged in", so the 401 is rebuilt and DRF's WWW-Authenticate header is lost.
        return Response({"error": "unauthorized"}, status=status.HTTP_401_UNAUTHORIZED)

    return response
