"""The operators' console: server-rendered pages behind a login, mounted at /console.

`create_console` builds the Starlette app that `alerts.web.create_app` mounts; sessions
live in signed cookies (`alerts.console.sessions`), every form carries a CSRF token
(`alerts.console.csrf`).
"""

from alerts.console.app import SESSION_COOKIE, SESSION_LIFETIME, create_console

__all__ = ["SESSION_COOKIE", "SESSION_LIFETIME", "create_console"]
