from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView
from rest_framework.routers import DefaultRouter

from project.seed import CLIENT_ID

from notes.views import MeView, NoteViewSet

router = DefaultRouter()
router.register("notes", NoteViewSet, basename="note")

# The tutorial's urls.py: admin, DOT's endpoints under /o/, then the API; and the site's
# sign-in page, a form of the front end's public client posting the password grant.
urlpatterns = [
    path("", TemplateView.as_view(template_name="signin.html", extra_context={"client_id": CLIENT_ID}), name="signin"),
    path("admin/", admin.site.urls),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me/", MeView.as_view()),
    path("api/", include(router.urls)),
]
