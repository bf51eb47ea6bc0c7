"""A state-changing GET, mounted only while the ``state_changing_get`` flaw is on.

INTENTIONALLY VULNERABLE (state_changing_get), though the flaw here is the scanner's to
avoid, not to report: ``GET /api/demo/reset/`` wipes every note and re-seeds the demo data
("the sales team resets the demo from a bookmark"). The schema lists it and the API root
links it. A scanner that requests it breaks the target in the middle of its own scan; the
end-to-end test proves from the access log that authprobe never does, and that the report
names it among the routes it did not probe. Hardened: not mounted.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from ..models import Note


class DemoResetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="Re-create the demo data", description="Drops every note and seeds the demo accounts' notes again.")
    def get(self, request):
        from django.contrib.auth import get_user_model

        from ..seed import NOTES

        deleted, _ = Note.objects.all().delete()
        users = {u.username: u for u in get_user_model().objects.all()}
        for pk, owner, title, body in NOTES:
            Note.objects.create(id=pk, owner=users[owner], title=title, body=body)
        return Response({"reset": True, "deleted": deleted})
