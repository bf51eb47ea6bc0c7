"""URLconf of the testbed. Flaw-only endpoints are mounted only while their flaw is on."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView
from rest_framework import routers

from api import es256, kid, rs256
from api.password_reset import reset_token_generator
from api.views import auth, data, receipts, root, stacks
from api.views.accounts import AccountLoginView, AccountLogoutView
from project.flaws import flaw_on


class Router(routers.DefaultRouter):
    APIRootView = root.ApiRootView
    include_format_suffixes = False


router = Router()
router.register("notes", data.NoteViewSet, basename="note")
router.register("posts", data.PostViewSet, basename="post")

login_view = AccountLoginView.as_view()
if flaw_on("csrf_exempt"):
    # INTENTIONALLY VULNERABLE (csrf_exempt): see AccountLoginView.dispatch.
    login_view = csrf_exempt(login_view)

urlpatterns = [
    path("", root.api_root, name="root"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(".well-known/jwks.json", rs256.JwksView.as_view(), name="jwks"),
    # simplejwt
    path("api/token/", auth.TokenObtainView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", auth.TokenRefreshView.as_view(), name="token_refresh"),
    path("api/token/verify/", auth.TokenVerifyView.as_view(), name="token_verify"),
    path("api/token/blacklist/", auth.TokenBlacklistView.as_view(), name="token_blacklist"),
    path("api/token/ephemeral/", auth.EphemeralTokenView.as_view(), name="token_ephemeral"),
    # session / account management
    path("api/logout/", auth.LogoutView.as_view(), name="logout"),
    path("api/token-login/", auth.TokenLoginView.as_view(), name="token_login"),
    path("api/password/change/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("api/password/reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path("api/register/", auth.RegisterView.as_view(), name="register"),
    path("api/users/<str:username>/password/", auth.UserPasswordView.as_view(), name="user_password"),
    path("api/staff/users/", data.StaffUserListView.as_view(), name="staff_users"),
    path("api/directory/", data.DirectoryView.as_view(), name="directory"),
    # data
    path("api/me/", data.MeView.as_view(), name="me"),
    path("api/export/", data.ExportView.as_view(), name="export"),
    path("api/keys/", data.ApiKeyView.as_view(), name="api_keys"),
    # Receipts (in memory, random public ids); the lookup route is named only by the schema.
    path("api/receipts/", receipts.ReceiptListView.as_view(), name="receipt-list"),
    path("api/receipts/<str:id>/", receipts.ReceiptDetailView.as_view(), name="receipt-detail"),
    path("api/receipt-lookup/<str:receipt_id>/", receipts.ReceiptLookupView.as_view(), name="receipt-lookup"),
    # Codes issued on GET; their generators are weak under predictable_tokens,
    # identity_tokens and low_entropy_tokens.
    path("api/invites/", data.InviteCodeView.as_view(), name="invites"),
    path("api/v1/keys/", data.LegacyApiKeyView.as_view(), name="legacy_api_keys"),
    path("api/pairing-codes/", data.PairingCodeView.as_view(), name="pairing_codes"),
    # partner API (RS256)
    path("api/rs/token/", rs256.PartnerTokenView.as_view(), name="partner_token"),
    path("api/rs/me/", rs256.PartnerMeView.as_view(), name="partner_me"),
    # key-rotation (HS256 + kid) and ES256 token families
    path("api/kid/token/", kid.KidTokenView.as_view(), name="kid_token"),
    path("api/kid/me/", kid.KidMeView.as_view(), name="kid_me"),
    path("api/es/token/", es256.EsTokenView.as_view(), name="es_token"),
    path("api/es/me/", es256.EsMeView.as_view(), name="es_me"),
    path("api/", include(router.urls)),
    # DRF authtoken and the server-rendered login
    path("api-token-auth/", auth.AuthTokenLoginView.as_view(), name="authtoken"),
    path("accounts/login/", login_view, name="login"),
    path("accounts/logout/", AccountLogoutView.as_view(), name="session_logout"),
    # The e-mailed reset link (POST /api/password/reset/): Django's own views. A valid link
    # redirects to reset/<uidb64>/set-password/ (token kept in the session), whose form
    # (new_password1, new_password2, CSRF) sets the password; no login afterwards.
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            token_generator=reset_token_generator(),
            success_url=reverse_lazy("password_reset_complete"),
            post_reset_login=False,
        ),
        name="password_reset_confirm",
    ),
    # The admin: at settings.ADMIN_URL (unguessable unless the admin_exposed flaw is on).
    path(settings.ADMIN_URL, admin.site.urls),
]

if flaw_on("debug_route"):
    from api.views import debug

    # INTENTIONALLY VULNERABLE (debug_route): see api/views/debug.py.
    urlpatterns.insert(0, path("api/debug/", debug.DebugView.as_view(), name="debug"))

if flaw_on("state_changing_get"):
    from api.views import demo

    # INTENTIONALLY VULNERABLE (state_changing_get): see api/views/demo.py.
    urlpatterns.insert(0, path("api/demo/reset/", demo.DemoResetView.as_view(), name="demo_reset"))

# Third-party auth stacks (`serve --apps dj-rest-auth,knox`).
urlpatterns += stacks.urlpatterns_for(settings.TESTBED_APPS)
