"""What the --hardened variant adds to djoser's documented setup (see settings.HARDENED).

* failure limits on the simplejwt views: after 5 failed logins per (client IP, username)
  within a minute that pair gets 429 for the rest of the minute, right password or not;
  after 10 failed refresh/verify calls per client IP, further *failures* get 429 (a valid
  token still goes through: tokens cannot be guessed, so that is no oracle);
* POST /auth/jwt/logout/ {"refresh"}: blacklists the refresh token and deny-lists the
  presented access token's jti (djoser's JWT urls have no logout at all);
* djoser's account actions (password reset, activation, registration...) throttled;
* a Content-Security-Policy on every response (project.auth, with the revocation check).
"""

import time

from django.core.cache import cache
from django.urls import include, path, re_path
from djoser.views import UserViewSet
from rest_framework import exceptions, permissions, status
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken

from project.auth import revoke_access

WINDOW = 60  # seconds


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "")  # never X-Forwarded-For: no proxy in front


def over_limit(key: str, limit: int) -> bool:
    now = time.monotonic()
    return len([t for t in cache.get(key, []) if now - t < WINDOW]) >= limit


def add_failure(key: str) -> None:
    now = time.monotonic()
    cache.set(key, [t for t in cache.get(key, []) if now - t < WINDOW] + [now], WINDOW)


class FailureLimitedMixin:
    limit = 10

    def limiter_key(self, request) -> str:
        return "fail:%s:%s" % (type(self).__name__, client_ip(request))

    def post(self, request, *args, **kwargs):
        key = self.limiter_key(request)
        limited = over_limit(key, self.limit)
        try:
            response = super().post(request, *args, **kwargs)
        except (exceptions.AuthenticationFailed, InvalidToken, exceptions.ValidationError):
            add_failure(key)
            if limited:
                raise exceptions.Throttled(wait=WINDOW, detail="Too many failed attempts.")
            raise
        return response


class LoginView(FailureLimitedMixin, jwt_views.TokenObtainPairView):
    limit = 5

    def post(self, request, *args, **kwargs):
        # A locked-out (IP, username) waits even with the right password: if only failures
        # were refused, 200 vs 429 would still tell the attacker a correct guess.
        if over_limit(self.limiter_key(request), self.limit):
            raise exceptions.Throttled(wait=WINDOW, detail="Too many failed attempts.")
        return super().post(request, *args, **kwargs)

    def limiter_key(self, request) -> str:
        username = str(request.data.get("username", ""))[:150].lower() if hasattr(request.data, "get") else ""
        return "fail:login:%s:%s" % (client_ip(request), username)


class RefreshView(FailureLimitedMixin, jwt_views.TokenRefreshView):
    pass


class VerifyView(FailureLimitedMixin, jwt_views.TokenVerifyView):
    pass


class LogoutView(APIView):
    """POST /auth/jwt/logout/ {"refresh"} with the access token -> 204; both stop working."""

    permission_classes = [permissions.IsAuthenticated]

    def post(self, request):
        raw = request.data.get("refresh") if hasattr(request.data, "get") else None
        if raw:
            try:
                refresh = RefreshToken(raw)
            except TokenError as exc:
                raise exceptions.ValidationError({"refresh": [str(exc)]}) from exc
            if str(refresh.get(api_settings.USER_ID_CLAIM)) != str(request.user.pk):
                raise exceptions.ValidationError({"refresh": ["Token belongs to another user."]})
            refresh.blacklist()
        revoke_access(request.auth.payload)
        return Response(status=status.HTTP_204_NO_CONTENT)


class AccountThrottle(SimpleRateThrottle):
    scope = "account"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request)}


class ThrottledUserViewSet(UserViewSet):
    """djoser's UserViewSet with its unauthenticated/credential-checking actions throttled."""

    sensitive = {
        "create", "activation", "resend_activation", "reset_password", "reset_password_confirm",
        "set_password", "set_username", "reset_username", "reset_username_confirm",
    }

    def get_throttles(self):
        return [AccountThrottle()] if self.action in self.sensitive else super().get_throttles()


router = SimpleRouter()
router.register("users", ThrottledUserViewSet, basename="user")

urlpatterns = [
    re_path(r"^auth/jwt/create/?$", LoginView.as_view()),
    re_path(r"^auth/jwt/refresh/?$", RefreshView.as_view()),
    re_path(r"^auth/jwt/verify/?$", VerifyView.as_view()),
    path("auth/jwt/logout/", LogoutView.as_view()),
    path("auth/", include(router.urls)),
]
