"""Data endpoints: /api/me/, notes, posts, export, API keys and their legacy variants."""

from __future__ import annotations

import hashlib
import itertools
import secrets
import threading

from django.utils.crypto import get_random_string
from rest_framework import status, viewsets
from rest_framework.authtoken.models import Token
from django.contrib.auth import get_user_model
from rest_framework.permissions import AllowAny, BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from project.flaws import flaw_on

from ..authentication import ApiJWTAuthentication, DemoFallbackJWTAuthentication
from ..models import ApiKey, Note, Post
from ..serializers import NOTE_LOOKUP_FIELD, NoteSerializer, PostSerializer, ProfileUpdateSerializer, UserSerializer


class MeView(APIView):
    """GET /api/me/ -> {"id", "username", "email", "is_staff"} of the caller; PATCH updates
    the caller's email; DELETE closes the caller's account."""

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        if flaw_on("invalid_token_accepted"):
            # INTENTIONALLY VULNERABLE (invalid_token_accepted): see DemoFallbackJWTAuthentication.
            authenticators = [
                DemoFallbackJWTAuthentication() if type(a) is ApiJWTAuthentication else a for a in authenticators
            ]
        return authenticators

    def get(self, request):
        return Response(UserSerializer(request.user).data)

    def patch(self, request):
        serializer = ProfileUpdateSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(UserSerializer(request.user).data)

    def delete(self, request):
        request.user.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class NoteViewSet(viewsets.ModelViewSet):
    """/api/notes/: list and create the caller's notes; /api/notes/<public_id>/: read, update
    and delete one (owner only)."""

    serializer_class = NoteSerializer
    lookup_field = NOTE_LOOKUP_FIELD
    http_method_names = ["get", "post", "put", "patch", "delete", "head", "options"]

    def get_permissions(self):
        if self.action == "retrieve" and flaw_on("missing_auth"):
            # INTENTIONALLY VULNERABLE (missing_auth): "share links" - the detail view was
            # opened to anonymous readers so that a note URL can be pasted into a chat.
            return [AllowAny()]
        return super().get_permissions()

    def get_queryset(self):
        if self.action == "retrieve" and (flaw_on("missing_auth") or flaw_on("bola")):
            # INTENTIONALLY VULNERABLE (bola / missing_auth): the detail lookup is not
            # scoped to the caller, so any id is served to anybody who asks for it.
            return Note.objects.select_related("owner")
        if self.action in ("update", "partial_update", "destroy") and flaw_on("bola_write"):
            # INTENTIONALLY VULNERABLE (bola_write): "the edit screen only links your own
            # notes" - writes look the note up among everybody's, so any signed-in user
            # edits or deletes any note by its id.
            return Note.objects.select_related("owner")
        return Note.objects.select_related("owner").filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)


class DirectoryView(APIView):
    """GET /api/directory/ - the team directory any signed-in user reads:
    {"count", "results": [{"username", "first_name", "last_name"}]}."""

    permission_classes = [IsAuthenticated]

    def get(self, request):
        results = []
        for u in get_user_model().objects.filter(is_active=True).order_by("username"):
            entry = {"username": u.get_username(), "first_name": u.first_name, "last_name": u.last_name}
            if flaw_on("directory_secrets"):
                # INTENTIONALLY VULNERABLE (directory_secrets): the entry was built from a
                # ModelSerializer with `exclude = ["id", "groups", "user_permissions"]`,
                # so every other field went out with it, the password hash among them.
                entry.update(
                    {
                        "email": u.email,
                        "password": u.password,
                        "is_staff": u.is_staff,
                        "date_joined": u.date_joined,
                    }
                )
            results.append(entry)
        return Response({"count": len(results), "results": results})


class StaffUserListView(APIView):
    """GET /api/staff/users/ - every account with its flags: the support team's user list.
    Hardened: staff only (IsAdminUser)."""

    def get_permissions(self):
        if flaw_on("bfla"):
            # INTENTIONALLY VULNERABLE (bfla): "the menu entry is only shown to staff" - the
            # view itself only asks for a signed-in user, so any customer who finds the URL
            # (it is in the published schema) reads every account.
            return [IsAuthenticated()]
        return [IsAdminUser()]

    def get(self, request):
        users = get_user_model().objects.order_by("id")
        results = [
            {
                "id": u.pk,
                "username": u.get_username(),
                "email": u.email,
                "is_staff": u.is_staff,
                "is_active": u.is_active,
                "last_login": u.last_login,
            }
            for u in users
        ]
        return Response({"count": len(results), "results": results})


class PostViewSet(viewsets.ViewSet):
    """GET /api/posts/?page=N - public blog posts, PAGE_SIZE per page."""

    permission_classes = [AllowAny]
    PAGE_SIZE = 2

    def list(self, request):
        raw_page = request.query_params.get("page", "1")
        if flaw_on("verbose_errors"):
            # INTENTIONALLY VULNERABLE (verbose_errors): the page number is trusted, so
            # ?page=abc raises ValueError and the exception handler returns the traceback.
            page = int(raw_page)
        else:
            try:
                page = int(raw_page)
            except ValueError:
                page = 0
            if page < 1:
                return Response({"detail": "Invalid page."}, status=status.HTTP_400_BAD_REQUEST)
        posts = Post.objects.select_related("author")
        count = posts.count()
        start = (page - 1) * self.PAGE_SIZE
        results = PostSerializer(posts[start : start + self.PAGE_SIZE], many=True).data
        last_page = max(1, -(-count // self.PAGE_SIZE))
        return Response(
            {
                "count": count,
                "page": page,
                "next": "/api/posts/?page=%d" % (page + 1) if page < last_page else None,
                "previous": "/api/posts/?page=%d" % (page - 1) if page > 1 else None,
                "results": results,
            }
        )


class AuthenticatedForGet(BasePermission):
    """INTENTIONALLY VULNERABLE (method_bypass): only GET is checked.

    Written when the endpoint was GET-only; HEAD (routed to get()), OPTIONS and the POST
    added later for the mobile app sail through without credentials.
    """

    def has_permission(self, request, view):
        if request.method == "GET":
            return bool(request.user and request.user.is_authenticated)
        return True


class ExportView(APIView):
    """GET /api/export/ - JSON export of the caller's notes (POST takes the same filters)."""

    def get_permissions(self):
        if flaw_on("method_bypass"):
            return [AuthenticatedForGet()]
        return [IsAuthenticated()]

    def get(self, request):
        notes = Note.objects.select_related("owner")
        if request.user.is_authenticated:
            notes = notes.filter(owner=request.user)
        # (Unfiltered for anonymous callers: "only the staff report job calls it without a
        # user" - reachable only through the method_bypass permission above.)
        return Response(
            {"count": notes.count(), "notes": NoteSerializer(notes, many=True, context={"request": request}).data}
        )

    def post(self, request):
        return self.get(request)


# --- API keys ----------------------------------------------------------------------------


class ApiKeyView(APIView):
    """POST /api/keys/ -> {"id", "key", "scheme"}; key = secrets.token_urlsafe(32)."""

    scheme = "random"

    def make_key(self, request) -> str:
        return secrets.token_urlsafe(32)

    def post(self, request):
        key = ApiKey.objects.create(owner=request.user, key=self.make_key(request), scheme=self.scheme)
        return Response({"id": key.pk, "key": key.key, "scheme": key.scheme}, status=status.HTTP_201_CREATED)


class IssuedCodeView(ApiKeyView):
    """Codes the caller fetches with GET (one new code per request) or creates with POST.

    Hardened, each scheme uses the framework's own generator: Django's
    ``get_random_string`` or DRF's ``Token.generate_key`` (hex of 20 random bytes).
    """

    def get(self, request):
        # No row id in the answer: the code is what the caller needs (and ids are not
        # this endpoint's subject).
        key = ApiKey.objects.create(owner=request.user, key=self.make_key(request), scheme=self.scheme)
        return Response({"key": key.key, "scheme": key.scheme})


_invite_lock = threading.Lock()
_invite_counter = itertools.count(1)


class InviteCodeView(IssuedCodeView):
    """GET/POST /api/invites/ -> a new invite code; hardened: get_random_string(32)."""

    scheme = "invite"

    def make_key(self, request) -> str:
        if not flaw_on("predictable_tokens"):
            return get_random_string(32)
        # INTENTIONALLY VULNERABLE (predictable_tokens): invite codes are a counter on top
        # of a fixed base ("human-friendly, easy to read out on the phone") - whoever
        # receives one knows the next ones, and there are only ~10^8 of them.
        with _invite_lock:
            return str(40_000_000 + next(_invite_counter))


class LegacyApiKeyView(IssuedCodeView):
    """GET/POST /api/v1/keys/ -> a key for the v1 API; hardened: DRF's Token.generate_key()."""

    scheme = "legacy"

    def make_key(self, request) -> str:
        if not flaw_on("identity_tokens"):
            return Token.generate_key()
        # INTENTIONALLY VULNERABLE (identity_tokens): the v1 key scheme kept for the old
        # mobile app, which recomputes the key itself: md5(username). Anybody can compute
        # anybody's key.
        return hashlib.md5(request.user.get_username().encode()).hexdigest()


class PairingCodeView(IssuedCodeView):
    """GET/POST /api/pairing-codes/ -> a device pairing code; hardened: get_random_string(24)."""

    scheme = "pairing"

    def make_key(self, request) -> str:
        if not flaw_on("low_entropy_tokens"):
            return get_random_string(24)
        # INTENTIONALLY VULNERABLE (low_entropy_tokens): device pairing codes that "must
        # fit on a TV screen": 6 hex digits, 24 bits, guessable online.
        return secrets.token_hex(3)
