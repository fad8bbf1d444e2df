"""The console's templates (`templates/console/`) and its stylesheet.

Autoescaping is on: names, titles and errors come from feeds and are shown as text. The
stylesheet is the subscriber pages' `site.css` followed by `console.css`, served by the
console itself so it works wherever the console is mounted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from alerts import resources
from alerts.console.views import format_interval, format_time
from alerts.web.pages import Pages

STYLESHEET_PATH = "/assets/console.css"


def console_templates_dir() -> Path:
    return resources.templates_dir() / "console"


def root_of(request: Request) -> str:
    """Where the console is mounted ("/console"), without a trailing slash."""
    return str(request.scope.get("root_path", "")).rstrip("/")


class ConsolePages(Pages):
    """The site's page renderer over the console's templates and stylesheet."""

    stylesheet_path = STYLESHEET_PATH

    def __init__(self, templates_dir: Path | None = None) -> None:
        directory = templates_dir or console_templates_dir()
        site = (directory.parent / "web" / "site.css").read_bytes()
        super().__init__(
            directory, stylesheet=site + b"\n" + (directory / "console.css").read_bytes()
        )
        self._env.filters["when"] = format_time
        self._env.filters["interval"] = format_interval

    def render(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        """As the site's, with the console's layout defaults (no user, no CSRF token)."""
        context.setdefault("user", None)
        context.setdefault("csrf_token", "")
        return super().render(
            request, template, status_code=status_code, headers=headers, **context
        )
