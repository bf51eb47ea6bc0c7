"""Authentication endpoints: JWT (simplejwt), DRF authtoken, logout, token-to-session
bridge, password change / reset, registration."""

from __future__ import annotations

import logging

from django.contrib.auth import SESSION_KEY, get_user_model, logout, password_validation, update_session_auth_hash
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from knox.models import AuthToken as KnoxAuthToken
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from project.flaws import flaw_on

from ..models import Profile
from ..password_reset import send_reset_mail
from ..serializers import PasswordChangeSerializer, RegisterSerializer, UserSerializer
from ..sessions import start_session
from ..throttling import login_limiter, token_limiter
from ..tokens import ApiRefreshToken, EphemeralAccessToken, revoke_access_payload

log = logging.getLogger(__name__)
User = get_user_model()

# Exceptions that mean "the client presented something wrong" on a login/token endpoint.
FAILURES = (exceptions.AuthenticationFailed, exceptions.ValidationError, TokenError)


class FailureLimitedMixin:
    """Count failed POSTs (see api.throttling); refuse with 429 once over the limit."""

    limiter_kind = "login"  # or "token"
    limiter_endpoint = ""

    def get_limiter(self):
        factory = login_limiter if self.limiter_kind == "login" else token_limiter
        return factory(self.limiter_endpoint)

    def limiter_discriminator(self, request) -> str:
        if self.limiter_kind != "login":
            return ""
        try:
            return str(request.data.get("username", ""))
        except (AttributeError, exceptions.ParseError):
            return ""

    def guarded(self, request, handler):
        try:
            return handler()
        except FAILURES:
            limiter = self.get_limiter()
            if limiter is not None:
                limiter.failed(request, self.limiter_discriminator(request))
            raise

    def post(self, request, *args, **kwargs):
        return self.guarded(request, lambda: super(FailureLimitedMixin, self).post(request, *args, **kwargs))


# --- simplejwt ---------------------------------------------------------------------------


ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


def set_jwt_cookies(request, response):
    """INTENTIONALLY VULNERABLE (cookie_jwt_csrf): the SPA "should not keep tokens in
    localStorage", so the login also stores them in cookies - SameSite=None (the SPA lives
    on another site) and no double-submit CSRF token anywhere. Secure only over https, so
    the plain-HTTP testbed still gets them back."""
    data = getattr(response, "data", None)
    if response.status_code != 200 or not isinstance(data, dict):
        return response
    lifetimes = {
        ACCESS_COOKIE: ("access", jwt_api_settings.ACCESS_TOKEN_LIFETIME),
        REFRESH_COOKIE: ("refresh", jwt_api_settings.REFRESH_TOKEN_LIFETIME),
    }
    for cookie, (field, lifetime) in lifetimes.items():
        if data.get(field):
            response.set_cookie(
                cookie,
                data[field],
                max_age=int(lifetime.total_seconds()),
                path="/",
                secure=request.is_secure(),
                httponly=True,
                samesite="None",
            )
    return response


class TokenObtainView(FailureLimitedMixin, jwt_views.TokenObtainPairView):
    """POST /api/token/ {"username", "password"} -> {"access", "refresh"}
    (with cookie_jwt_csrf also as access_token / refresh_token cookies)."""

    limiter_endpoint = "token"

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if flaw_on("cookie_jwt_csrf"):
            set_jwt_cookies(request, response)
        return response


class TokenRefreshView(FailureLimitedMixin, jwt_views.TokenRefreshView):
    """POST /api/token/refresh/ {"refresh"} -> {"access", "refresh"} (rotation).

    With cookie_jwt_csrf: without a "refresh" field the refresh_token cookie is used (no
    CSRF check), and the rotated tokens are set as cookies again."""

    limiter_kind = "token"
    limiter_endpoint = "refresh"

    def post(self, request, *args, **kwargs):
        if not flaw_on("cookie_jwt_csrf"):
            return super().post(request, *args, **kwargs)
        return self.guarded(request, lambda: self.refresh_from_body_or_cookie(request))

    def refresh_from_body_or_cookie(self, request):
        # INTENTIONALLY VULNERABLE (cookie_jwt_csrf): the browser attaches the refresh
        # cookie to any cross-site POST, and nothing asks for a CSRF token or checks the
        # Origin, so any page the user visits mints fresh tokens with it.
        data = request.data
        if not (hasattr(data, "__contains__") and "refresh" in data):
            raw = request.COOKIES.get(REFRESH_COOKIE)
            if not raw:
                raise exceptions.AuthenticationFailed("No refresh token", "no_refresh_token")
            data = {"refresh": raw}
        serializer = self.get_serializer(data=data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        return set_jwt_cookies(request, Response(serializer.validated_data, status=status.HTTP_200_OK))


class TokenVerifyView(FailureLimitedMixin, jwt_views.TokenVerifyView):
    """POST /api/token/verify/ {"token"} -> {} or 401."""

    limiter_kind = "token"
    limiter_endpoint = "verify"


class TokenBlacklistView(FailureLimitedMixin, jwt_views.TokenBlacklistView):
    """POST /api/token/blacklist/ {"refresh"} -> {}."""

    limiter_kind = "token"
    limiter_endpoint = "blacklist"


class EphemeralTokenView(APIView):
    """POST /api/token/ephemeral/ (authenticated) -> a 2-second access token.

    Used for one-shot actions such as signed download links. Hardened verification rejects
    it as soon as it is past its exp.
    """

    def post(self, request):
        token = EphemeralAccessToken.for_user(request.user)
        return Response({"access": str(token), "expires_in": int(token.lifetime.total_seconds())})


# --- DRF authtoken -----------------------------------------------------------------------


class AuthTokenLoginView(FailureLimitedMixin, ObtainAuthToken):
    """POST /api-token-auth/ {"username", "password"} -> {"token": KEY}."""

    authentication_classes = ()
    limiter_endpoint = "authtoken"

    def post(self, request, *args, **kwargs):
        return self.guarded(request, lambda: self.issue_key(request))

    def issue_key(self, request):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if flaw_on("static_token"):
            # INTENTIONALLY VULNERABLE (static_token): DRF's stock behaviour - one key per
            # user, handed out again on every login and valid forever.
            token, _ = Token.objects.get_or_create(user=user)
        else:
            # Hardened: a fresh key per login (the previous one dies); keys expire after
            # AUTHTOKEN_LIFETIME (api.authentication.ExpiringTokenAuthentication).
            with transaction.atomic():
                Token.objects.filter(user=user).delete()
                token = Token.objects.create(user=user)
        return Response({"token": token.key})


# --- Logout, token-to-session bridge -----------------------------------------------------


class LogoutView(APIView):
    """POST /api/logout/ {"refresh"?} -> {"detail": "Logged out."}."""

    def post(self, request):
        if flaw_on("logout_no_revoke"):
            # INTENTIONALLY VULNERABLE (logout_no_revoke): "JWTs are stateless, the client
            # just deletes them" - nothing is revoked: the refresh token keeps minting, the
            # access token, the DRF key and the session stay valid.
            return Response({"detail": "Logged out."})

        refresh_raw = request.data.get("refresh") if hasattr(request.data, "get") else None
        refresh = None
        if refresh_raw:
            try:
                refresh = ApiRefreshToken(refresh_raw)
            except TokenError as exc:
                raise exceptions.ValidationError({"refresh": [str(exc)]}) from exc
            if str(refresh.get("user_id")) != str(request.user.pk):
                raise exceptions.ValidationError({"refresh": ["Token belongs to another user."]})

        if refresh is not None:
            refresh.blacklist()
        if isinstance(request.auth, dict):  # JWT: deny-list this access token's jti
            revoke_access_payload(request.auth)
        elif isinstance(request.auth, (Token, KnoxAuthToken)):  # DRF authtoken / knox: delete the key
            request.auth.delete()
        if request.session.get(SESSION_KEY):  # session (cookie) login: flush it
            logout(request._request)
        return Response({"detail": "Logged out."})


class TokenLoginView(APIView):
    """POST /api/token-login/ with a Bearer (or Token) credential -> Django session.

    The "token-to-session bridge": the SPA holds a JWT and opens server-rendered pages
    (admin-like screens) that need a session cookie.
    """

    def get_authenticators(self):
        # Header credentials only; a session cannot be used to mint a session.
        return [a for a in super().get_authenticators() if not isinstance(a, SessionAuthentication)]

    def post(self, request):
        django_request = request._request
        start_session(django_request, request.user)
        body = {"status": "ok"}
        if flaw_on("session_id_in_body"):
            # INTENTIONALLY VULNERABLE (session_id_in_body): the session id is echoed in the
            # JSON body "for the native app", so JavaScript (and any XSS) can read the
            # HttpOnly cookie's value after all.
            if django_request.session.session_key is None:
                django_request.session.save()
            body["session_id"] = django_request.session.session_key
        return Response(body)


# --- Password change / reset, registration -----------------------------------------------


def revoke_all_credentials(user) -> None:
    """Kill every credential of ``user``: JWT access + refresh, DRF keys, sessions."""
    Profile.objects.filter(user=user).update(token_generation=F("token_generation") + 1)
    for outstanding in OutstandingToken.objects.filter(user=user):
        BlacklistedToken.objects.get_or_create(token=outstanding)
    Token.objects.filter(user=user).delete()
    KnoxAuthToken.objects.filter(user=user).delete()
    # Sessions: Django rejects every session whose stored hash no longer matches the new
    # password (get_session_auth_hash), including the current one.


class PasswordChangeView(APIView):
    """POST /api/password/change/ {"old_password", "new_password"}."""

    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = request.user
        user.set_password(serializer.validated_data["new_password"])
        user.save(update_fields=["password"])
        if flaw_on("password_change_no_revoke"):
            # INTENTIONALLY VULNERABLE (password_change_no_revoke): "don't log the user out
            # everywhere" - the current session is re-hashed and every JWT, refresh token
            # and DRF key issued before the change (e.g. to the attacker) keeps working.
            if request.session.get(SESSION_KEY):
                update_session_auth_hash(request._request, user)
            return Response({"detail": "Password changed."})
        Profile.objects.get_or_create(user=user)
        revoke_all_credentials(user)
        return Response({"detail": "Password changed. All sessions and tokens were revoked; log in again."})


class PasswordResetView(APIView):
    """POST /api/password/reset/ {"email"} -> the reset link is mailed (api.password_reset)."""

    authentication_classes = ()
    permission_classes = [AllowAny]

    def post(self, request):
        limiter = token_limiter("password-reset")
        if limiter is not None:
            limiter.failed(request)  # every reset request counts
        email = str(request.data.get("email", "")) if hasattr(request.data, "get") else ""
        user = User.objects.filter(email__iexact=email, is_active=True).first() if email else None
        if user is None and flaw_on("user_enum"):
            # INTENTIONALLY VULNERABLE (user_enum): tells the caller which addresses exist.
            return Response(
                {"detail": "No account is registered with this email address."},
                status=status.HTTP_404_NOT_FOUND,
            )
        if user is not None:
            # Django's PasswordResetForm mails the link (/reset/<uidb64>/<token>/, served by
            # PasswordResetConfirmView) to the account's address; a failed send is logged and
            # changes nothing in the answer.
            send_reset_mail(request._request, email)
        return Response({"detail": "If an account with this email exists, a reset link has been sent."})


class RegisterView(APIView):
    """POST /api/register/ {"username", "password", "email"} -> 201 user."""

    authentication_classes = ()
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    def post(self, request):
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.save()
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class UserPasswordView(APIView):
    """POST /api/users/<username>/password/ {"old_password", "new_password"}: the account
    page's password form. Hardened: only the account itself, with its current password."""

    def post(self, request, username):
        user = get_object_or_404(User, username=username, is_active=True)
        new_password = str(request.data.get("new_password", "")) if hasattr(request.data, "get") else ""
        if not flaw_on("password_change_by_url"):
            if user != request.user:
                # Other accounts do not exist, as far as this caller can tell.
                return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
            if not user.check_password(str(request.data.get("old_password", ""))):
                return Response({"old_password": ["Old password is incorrect."]}, status=status.HTTP_400_BAD_REQUEST)
        # INTENTIONALLY VULNERABLE (password_change_by_url): the view was copied from the
        # support team's reset form - it trusts the username in the URL and asks for no
        # current password, so any signed-in user sets any account's password.
        try:
            password_validation.validate_password(new_password, user)
        except Exception as exc:  # django.core.exceptions.ValidationError
            return Response({"new_password": list(getattr(exc, "messages", [str(exc)]))}, status=status.HTTP_400_BAD_REQUEST)
        user.set_password(new_password)
        user.save(update_fields=["password"])
        Profile.objects.get_or_create(user=user)
        revoke_all_credentials(user)
        return Response({"detail": "Password changed."})
