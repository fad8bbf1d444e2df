"""Where the project's non-Python files live: `migrations/` and `templates/`.

They sit at the top of the repository (beside `alerts/`), so a checkout or an editable
install finds them next to the package. An installed wheel (the Docker image) copies them
elsewhere and points `ALERTS_RESOURCES_DIR` at that folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import alerts


def resources_dir() -> Path:
    """The folder holding `migrations/` and `templates/`."""
    override = os.environ.get("ALERTS_RESOURCES_DIR")
    if override:
        return Path(override)
    beside_package = Path(alerts.__file__).resolve().parents[1]
    if (beside_package / "migrations").is_dir():
        return beside_package
    return Path.cwd()


def migrations_dir() -> Path:
    """Alembic's script directory."""
    return resources_dir() / "migrations"


def templates_dir() -> Path:
    """Jinja2 templates for digests."""
    return resources_dir() / "templates"
