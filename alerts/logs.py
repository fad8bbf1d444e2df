"""Structured logging: one line per event, as `key=value` text or as JSON.

Callers log with `log.info("poll", extra={"fields": {...}})` through `event()`, so every line
carries the event name and its fields (feed, subscription, counts, timings) in a form that
log shippers and grep both handle.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "alerts"


def event(logger: logging.Logger, name: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event with its fields; fields that are None are left out."""
    if logger.isEnabledFor(level):
        kept = {k: v for k, v in fields.items() if v is not None}
        logger.log(level, name, extra={"fields": kept})


class _TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        parts = [stamp[:-4] + "Z", record.levelname.lower(), record.getMessage()]
        for key, value in getattr(record, "fields", {}).items():
            parts.append(f"{key}={_text_value(value)}")
        if record.exc_info:
            parts.append("exc=" + _text_value(self.formatException(record.exc_info)))
        return " ".join(parts)


def _text_value(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "event": record.getMessage(),
        }
        body.update(getattr(record, "fields", {}))
        if record.exc_info:
            body["exc"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False, default=str)


def configure(level: str = "INFO", fmt: str = "text") -> logging.Logger:
    """Send the `alerts` logger to stderr in the chosen format; idempotent."""
    logger = logging.getLogger(LOGGER_NAME)
    logger.setLevel(level.upper())
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if fmt == "json" else _TextFormatter())
    logger.addHandler(handler)
    logger.propagate = False
    # trafilatura warns about every page part it discards; our own event says what failed.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    return logger


def get_logger(name: str = "") -> logging.Logger:
    """The package logger or a child of it."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)
