"""The protected API: /api/me/ and owner-scoped /api/notes/ (OAuth2 Bearer tokens).

Permissions as in DOT's tutorial: IsAuthenticated + TokenHasReadWriteScope (GET needs the
"read" scope, writes need "write"; a password grant without `scope` gets all scopes).
"""

from oauth2_provider.contrib.rest_framework import TokenHasReadWriteScope
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from notes.models import Note


class MeView(APIView):
    permission_classes = [IsAuthenticated, TokenHasReadWriteScope]

    def get(self, request):
        user = request.user
        return Response({"id": user.pk, "username": user.username, "email": user.email})


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "title", "body", "created"]


class NoteViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated, TokenHasReadWriteScope]
    serializer_class = NoteSerializer  # routed by the sequential integer pk (DRF default)

    def get_queryset(self):
        return Note.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
