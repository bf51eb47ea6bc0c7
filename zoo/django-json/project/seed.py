from django.contrib.auth import get_user_model

from api.models import Item


def seed():
    """The contract's two plain users, each with a few items."""
    User = get_user_model()
    for name, password in (("alice", "alice-pass-1"), ("bob", "bob-pass-2")):
        user = User.objects.create_user(name, "%s@example.com" % name, password)
        for i in (1, 2, 3):
            Item.objects.create(owner=user, name="%s's item %d" % (name, i))
