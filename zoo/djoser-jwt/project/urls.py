from django.conf import settings
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from notes.views import NoteViewSet

router = DefaultRouter()
router.register("notes", NoteViewSet, basename="note")

urlpatterns = []
if settings.HARDENED:
    # Failure-limited token views and a revoking logout, matched before djoser's own.
    from project import hardening

    urlpatterns += hardening.urlpatterns

# djoser's "Getting started" urls.py, verbatim, plus the notes API.
urlpatterns += [
    path("auth/", include("djoser.urls")),
    path("auth/", include("djoser.urls.jwt")),
    path("api/", include(router.urls)),
]
