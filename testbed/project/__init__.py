"""Django project of the authprobe testbed (intentionally vulnerable by flaw switches)."""
