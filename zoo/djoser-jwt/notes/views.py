"""Owner-scoped notes: /api/notes/ and /api/notes/<id>/ (IsAuthenticated, the caller's only)."""

from django.conf import settings
from rest_framework import serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from notes.models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "title", "body", "created"]


class PublicIdNoteSerializer(NoteSerializer):
    # Hardened: the random UUID is the only id clients ever see.
    id = serializers.UUIDField(source="public_id", read_only=True)


class NoteViewSet(viewsets.ModelViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = PublicIdNoteSerializer if settings.HARDENED else NoteSerializer
    lookup_field = "public_id" if settings.HARDENED else "pk"

    def get_queryset(self):
        return Note.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)
