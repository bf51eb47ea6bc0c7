from django.contrib.auth import get_user_model

from notes.models import Note


def seed():
    """The contract's two plain users, each with a few notes."""
    User = get_user_model()
    for name, password in (("alice", "alice-pass-1"), ("bob", "bob-pass-2")):
        user = User.objects.create_user(name, "%s@example.com" % name, password)
        for i in (1, 2, 3):
            Note.objects.create(owner=user, title="%s's note %d" % (name, i), body="private to %s" % name)
