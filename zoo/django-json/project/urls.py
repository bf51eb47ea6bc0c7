from django.conf import settings
from django.urls import path

from api import views

urlpatterns = [
    path("api/v1/auth/signin", views.signin),
    path("api/v1/auth/signout", views.signout),
    path("api/v1/profile", views.profile),
    path("api/v1/items", views.items),
    path("api/v1/items/<str:item_id>", views.item_detail),
]

if settings.HARDENED:
    # JSON errors instead of Django's HTML pages.
    handler404 = "api.views.not_found"
    handler500 = "api.views.server_error"
