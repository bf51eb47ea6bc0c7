"""The testbed API app: notes, posts, auth endpoints and the flawed variants."""
