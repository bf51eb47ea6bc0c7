import secrets
import uuid

from django.conf import settings
from django.db import models


def new_token() -> str:
    return secrets.token_hex(20)  # 160 random bits, like DRF's authtoken


class AuthToken(models.Model):
    """One row per signin; the key is what clients send as `Authorization: Bearer <key>`."""

    key = models.CharField(max_length=40, unique=True, default=new_token)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_tokens")
    created = models.DateTimeField(auto_now_add=True)


class Item(models.Model):
    # Flawed variant shows and routes the sequential `id`; hardened only `public_id`.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="items")
    name = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
