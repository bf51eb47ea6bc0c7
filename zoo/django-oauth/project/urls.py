from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import DefaultRouter

from notes.views import MeView, NoteViewSet

router = DefaultRouter()
router.register("notes", NoteViewSet, basename="note")

# The tutorial's urls.py: admin, DOT's endpoints under /o/, then the API.
urlpatterns = [
    path("admin/", admin.site.urls),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me/", MeView.as_view()),
    path("api/", include(router.urls)),
]
