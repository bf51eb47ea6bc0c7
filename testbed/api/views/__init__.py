"""Views of the testbed API, grouped by concern."""
