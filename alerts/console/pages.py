"""The console's templates (`templates/console/`) and its stylesheet.

Autoescaping is on: names, titles and errors come from feeds and are shown as text. The
stylesheet is the subscriber pages' `site.css` followed by `console.css`, served by the
console itself so it works wherever the console is mounted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from alerts import resources
from alerts.console.views import format_interval, format_time

STYLESHEET_PATH = "/assets/console.css"


def console_templates_dir() -> Path:
    return resources.templates_dir() / "console"


def root_of(request: Request) -> str:
    """Where the console is mounted ("/console"), without a trailing slash."""
    return str(request.scope.get("root_path", "")).rstrip("/")


class ConsolePages:
    """Renders the console's templates into responses."""

    def __init__(self, templates_dir: Path | None = None) -> None:
        directory = templates_dir or console_templates_dir()
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["when"] = format_time
        self._env.filters["interval"] = format_interval
        site = (directory.parent / "web" / "site.css").read_bytes()
        self.stylesheet = site + b"\n" + (directory / "console.css").read_bytes()
        self._css_version = hashlib.sha256(self.stylesheet).hexdigest()[:12]

    def render(
        self,
        request: Request,
        template: str,
        *,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        root = root_of(request)
        context.setdefault("user", None)
        context.setdefault("csrf_token", "")
        html = self._env.get_template(template).render(
            root=root, stylesheet=f"{root}{STYLESHEET_PATH}?v={self._css_version}", **context
        )
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def message(
        self,
        request: Request,
        title: str,
        *paragraphs: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        link: tuple[str, str] | None = None,
    ) -> HTMLResponse:
        """A page with a heading, a few paragraphs and perhaps one link (href, text)."""
        return self.render(
            request,
            "message.html.j2",
            status_code=status_code,
            headers=headers,
            title=title,
            paragraphs=paragraphs,
            link=link,
        )

    def stylesheet_response(self) -> Response:
        return Response(
            self.stylesheet,
            media_type="text/css; charset=utf-8",
            headers={"cache-control": "public, max-age=86400"},
        )
