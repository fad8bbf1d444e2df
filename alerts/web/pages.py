"""Server-rendered pages: the Jinja2 templates in `templates/web/` and their stylesheet.

Autoescaping is on for every template. Pages carry no scripts and no inline styles (the
Content-Security-Policy forbids both); their look comes from one stylesheet served by the
app itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from alerts import resources

STYLESHEET = "site.css"
STYLESHEET_PATH = "/assets/site.css"


def web_templates_dir() -> Path:
    """`templates/web/`, found the way the digest templates are."""
    return resources.templates_dir() / "web"


@dataclass(frozen=True, slots=True)
class Link:
    """A link offered at the end of a message page."""

    href: str
    text: str


class Pages:
    """Renders the page templates into responses."""

    stylesheet_path = STYLESHEET_PATH

    def __init__(
        self, templates_dir: Path | None = None, *, stylesheet: bytes | None = None
    ) -> None:
        directory = templates_dir or web_templates_dir()
        self._env = Environment(
            loader=FileSystemLoader(directory),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.stylesheet = (
            stylesheet if stylesheet is not None else (directory / STYLESHEET).read_bytes()
        )
        # In the stylesheet's URL, so a new version is never hidden by a cached old one.
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
        """`template` with `context`, plus what every page needs (root path, stylesheet)."""
        root = str(request.scope.get("root_path", "")).rstrip("/")
        html = self._env.get_template(template).render(
            root=root,
            stylesheet=f"{root}{self.stylesheet_path}?v={self._css_version}",
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers=headers)

    def message(
        self,
        request: Request,
        title: str,
        *paragraphs: str,
        status_code: int = 200,
        link: Link | None = None,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """A page with a heading, a few paragraphs and perhaps one link onwards."""
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
            # Safe to cache for long: its URL changes with its content.
            headers={"cache-control": "public, max-age=86400"},
        )
