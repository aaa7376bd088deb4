"""Rendering replies: the layout people see, and Block Kit's limits for any input."""
