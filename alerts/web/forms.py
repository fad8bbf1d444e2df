"""The subscribe form: what it offers, and checking what comes back, field by field.

Pure: no I/O. Every problem is reported against its field, in words a subscriber can act
on; nothing here raises for bad input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from alerts.delivery.schedule import ScheduleError, check_zone, parse_schedule
from alerts.store.subscribers import MAX_ADDRESS_LENGTH

# (schedule, label) offered on the form, in this order. A schedule the scheduler cannot
# run yet is left out of the form (see `offered_schedules`) rather than accepted.
SCHEDULE_CHOICES: tuple[tuple[str, str], ...] = (
    ("immediate", "As soon as something matches"),
    ("daily 08:00", "Every day at 08:00"),
    ("weekdays 08:00", "Monday to Friday at 08:00"),
    ("weekly MON 08:00", "Every Monday at 08:00"),
)
DEFAULT_SCHEDULE = "daily 08:00"
MAX_ZONE_LENGTH = 64  # the `subscriptions.timezone` column

# RFC 5322 dot-atom: the local parts real mailboxes use (no quoted strings, no comments).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LOCAL = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_MAX_LOCAL = 64
_ADDRESS_HINT = "Enter an email address like name@example.org."
_TOO_LONG = f"This address is too long: we can take up to {MAX_ADDRESS_LENGTH} characters."


@dataclass(frozen=True, slots=True)
class SubscribeForm:
    """What the form holds, as typed (for showing it again), and its problems by field."""

    email: str = ""
    watchlists: tuple[str, ...] = ()
    schedule: str = DEFAULT_SCHEDULE
    timezone: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    address: str = ""  # the checked, normalised address ("" while `email` has a problem)

    @property
    def valid(self) -> bool:
        return not self.errors


def offered_schedules(default_zone: str) -> tuple[tuple[str, str], ...]:
    """The choices of `SCHEDULE_CHOICES` that the schedule parser accepts."""
    offered = []
    for spec, label in SCHEDULE_CHOICES:
        try:
            parse_schedule(spec, default_zone)
        except ScheduleError:
            continue
        offered.append((spec, label))
    return tuple(offered)


def check_address(text: str) -> str:
    """The address in the form it is stored (lower case, ASCII domain); ValueError says why not."""
    address = text.strip()
    if not address:
        raise ValueError("Enter your email address.")
    if any(c.isspace() or ord(c) < 32 for c in address):
        raise ValueError(_ADDRESS_HINT)
    if len(address) > MAX_ADDRESS_LENGTH:
        raise ValueError(_TOO_LONG)
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise ValueError(_ADDRESS_HINT)
    if len(local) > _MAX_LOCAL or not _LOCAL.fullmatch(local):
        raise ValueError(_ADDRESS_HINT)
    try:
        # Internationalised domains are stored as their ASCII (punycode) form, which every
        # mail server accepts.
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(_ADDRESS_HINT) from None
    labels = ascii_domain.split(".")
    if (
        len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(_ADDRESS_HINT)
    normalised = f"{local}@{ascii_domain}".lower()
    if len(normalised) > MAX_ADDRESS_LENGTH:
        raise ValueError(_TOO_LONG)
    return normalised


def read_subscribe_form(
    email: str,
    watchlists: Sequence[str],
    schedule: str,
    timezone: str,
    *,
    known_watchlists: Sequence[str],
    schedules: Sequence[tuple[str, str]],
    default_timezone: str,
) -> SubscribeForm:
    """Check the posted fields; `errors` maps a field name to its message."""
    errors: dict[str, str] = {}
    address = ""
    try:
        address = check_address(email)
    except ValueError as exc:
        errors["email"] = str(exc)

    chosen = tuple(dict.fromkeys(w for w in watchlists if w))
    if not chosen:
        errors["watchlists"] = "Choose at least one watchlist."
    elif any(w not in known_watchlists for w in chosen):
        errors["watchlists"] = "Choose from the watchlists listed."

    zone = timezone.strip() or default_timezone
    try:
        if len(zone) > MAX_ZONE_LENGTH:
            raise ScheduleError("too long")
        check_zone(zone)
    except ScheduleError:
        errors["timezone"] = "Enter a time zone such as Europe/London or America/New_York."

    spec = schedule.strip()
    if spec not in {s for s, _ in schedules}:
        errors["schedule"] = "Choose one of the schedules listed."
    elif "timezone" not in errors:
        try:
            parse_schedule(spec, zone)
        except ScheduleError:
            errors["schedule"] = "Choose one of the schedules listed."

    return SubscribeForm(
        email=email.strip(),
        watchlists=chosen,
        schedule=spec,
        timezone=timezone.strip(),
        errors=errors,
        address=address,
    )
