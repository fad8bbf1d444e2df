"""The read-only JSON API, v1: sources, watchlists, items with their match explanations,
deliveries with their attempts, and the OpenAPI document that describes them.

Every data endpoint takes an API token (`Authorization: Bearer alerts_...`) whose
principal allows `read`; every refusal is one JSON error object (`errors.py`). The API is a
Starlette sub-application that `alerts.web.create_app` mounts at `/api`.

Imports the store (through `alerts.store.reads` and `alerts.store.accounts`) and Starlette;
never httpx, feedparser or the pipeline.
"""

from __future__ import annotations

from alerts.api.app import create_api

__all__ = ["create_api"]
