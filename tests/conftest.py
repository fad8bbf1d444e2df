"""Shared fixtures: real local servers and real databases, one module each in tests/support."""

pytest_plugins = [
    "tests.support.feed_server",
    "tests.support.smtp_server",
    "tests.support.webhook_receiver",
    "tests.support.database",
]
