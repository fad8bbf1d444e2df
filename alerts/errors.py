"""One error tree for the whole service. Outside errors are translated where they enter.

AlertsError
├── ConfigError          feeds.toml or ALERTS_* settings are invalid (carries every problem)
├── SourceError          fetching or parsing one feed failed (carries the feed name)
│   ├── FetchError       network, HTTP status, size cap, redirect loop, timeout
│   ├── ParseError       the body is not a feed we can read
│   └── ExtractionError  an article page gave no usable text (the item keeps its feed text)
├── StoreError           the database refused or is unreachable
├── DeliveryError        one channel could not take a digest (carries the channel name)
│   └── PermanentDeliveryError   retrying cannot help (bad address, 4xx other than 429)
└── AccountError         a user, login or API token request refused (alerts.accounts)
    ├── UnknownAccountError  no such user or token
    └── AccountExistsError   the username is taken
"""

from __future__ import annotations

from dataclasses import dataclass


class AlertsError(Exception):
    """Base of every error this package raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One problem in a config file: where it is and what is wrong."""

    file: str
    where: str  # "line 12" or a key path such as "subscriptions[0].channel"
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.where}: {self.message}"


class ConfigError(AlertsError):
    """The configuration is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SourceError(AlertsError):
    """A feed could not be fetched or read."""

    def __init__(self, feed: str, message: str) -> None:
        self.feed = feed
        self.message = message
        super().__init__(f"feed {feed!r}: {message}")


class FetchError(SourceError):
    """The HTTP exchange failed. `retry_after` is seconds the server asked us to wait."""

    def __init__(
        self,
        feed: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(feed, message)
        self.status = status
        self.retry_after = retry_after


class ParseError(SourceError):
    """The body was fetched but is not a readable feed."""


class ExtractionError(SourceError):
    """An item's article page could not be read into text; the item keeps its feed text."""


class StoreError(AlertsError):
    """The database failed; the operation was rolled back."""


class DeliveryError(AlertsError):
    """A channel did not accept a digest; the delivery stays pending and is retried."""

    def __init__(
        self,
        channel: str,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        response: str = "",
    ) -> None:
        self.channel = channel
        self.message = message
        self.retry_after = retry_after
        # What the receiver answered, for the delivery log: HTTP status or SMTP reply code,
        # and an excerpt of the body or reply text (never the URL: it may be a secret).
        self.status = status
        self.response = response
        super().__init__(f"channel {channel!r}: {message}")


class PermanentDeliveryError(DeliveryError):
    """Retrying will not help; the delivery is marked dead at once."""
