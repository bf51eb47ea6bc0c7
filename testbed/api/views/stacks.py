"""Third-party auth stacks, mounted with `serve --apps`: dj-rest-auth in JWT mode at
/dj-rest-auth/ and knox at /api/auth/ (knox's documented mount). They are configured the way their docs show, with
the testbed's failed-login limiter added, so authprobe's flow detection meets the real
packages and a hardened scan stays clean."""

from __future__ import annotations

from dj_rest_auth import views as rest_auth_views
from knox import views as knox_views
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny

from project.flaws import flaw_on

from ..models import Profile
from .auth import FailureLimitedMixin, revoke_all_credentials


class RestAuthLoginView(FailureLimitedMixin, rest_auth_views.LoginView):
    """POST /dj-rest-auth/login/ {"username", "password"} -> {"access", "refresh", "user"}."""

    limiter_endpoint = "dj-rest-auth"


class RestAuthPasswordChangeView(rest_auth_views.PasswordChangeView):
    """POST /dj-rest-auth/password/change/ {"old_password", "new_password1", "new_password2"}."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200 and not flaw_on("password_change_no_revoke"):
            # dj-rest-auth leaves issued JWTs alone; the hardened testbed revokes them.
            Profile.objects.get_or_create(user=request.user)
            revoke_all_credentials(request.user)
        return response


class KnoxLoginView(FailureLimitedMixin, knox_views.LoginView):
    """POST /api/auth/login/ {"username", "password"} -> {"expiry", "token"} (knox's docs
    recipe: AllowAny plus DRF's AuthTokenSerializer instead of Basic auth)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    limiter_endpoint = "knox"

    def post(self, request, format=None):
        return self.guarded(request, lambda: self.log_in(request, format))

    def log_in(self, request, format):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        request.user = serializer.validated_data["user"]
        return knox_views.LoginView.post(self, request, format=format)


def urlpatterns_for(apps: frozenset[str]) -> list:
    from django.urls import path

    patterns = []
    if "dj-rest-auth" in apps:
        patterns += [
            path("dj-rest-auth/login/", RestAuthLoginView.as_view(), name="rest_login"),
            path("dj-rest-auth/logout/", rest_auth_views.LogoutView.as_view(), name="rest_logout"),
            path("dj-rest-auth/user/", rest_auth_views.UserDetailsView.as_view(), name="rest_user_details"),
            path("dj-rest-auth/password/change/", RestAuthPasswordChangeView.as_view(), name="rest_password_change"),
            path("dj-rest-auth/token/refresh/", _refresh_view(), name="rest_token_refresh"),
        ]
    if "knox" in apps:
        patterns += [
            path("api/auth/login/", KnoxLoginView.as_view(), name="knox_login"),
            path("api/auth/logout/", knox_views.LogoutView.as_view(), name="knox_logout"),
        ]
    return patterns


def _refresh_view():
    from .auth import TokenRefreshView

    return TokenRefreshView.as_view()
