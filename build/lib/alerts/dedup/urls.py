"""URL canonicalisation for recognising the same item or story again.

`canonical_url` is an identity key, not a URL to fetch: two URLs that differ only in ways
that do not change the story map to the same string. For http(s) URLs it:

- lower-cases the host, drops a trailing dot and a leading "www." label, and encodes
  international host names as IDNA ("xn--"); keeps user info as is;
- writes the scheme as https (sites answer both; feeds flip between them);
- drops default ports (80 and 443, since the scheme is collapsed) and the fragment;
- normalises percent-encoding: unreserved characters are decoded, other escapes
  upper-cased, characters that must be escaped (spaces, non-ASCII) are escaped as UTF-8;
- drops tracking query parameters (`TRACKING_PARAMS`, `TRACKING_PREFIXES`; names compared
  case-insensitively) and empty ones, then sorts the rest. The list is deliberately
  conservative: dropping a parameter that does identify a story (a generic "cid" or "ref"
  on some CMSs) would merge different stories and lose alerts, which is worse than a
  duplicate;
- drops a trailing "/" from the path, and writes an empty path as "/".

"www." is stripped on purpose: news sites serve the same story on both hosts and feeds
mix them; a site serving different stories at the same path on both does not exist in
practice. Fragments are dropped even for old "#!" URLs, which feeds no longer use.

Anything that is not an absolute http(s) URL (relative links, "urn:", "tag:" and other
guids, unparseable text) is returned stripped but otherwise unchanged.
"""

from __future__ import annotations

import contextlib
import string
from urllib.parse import SplitResult, urlsplit

__all__ = ["TRACKING_PARAMS", "TRACKING_PREFIXES", "canonical_url", "url_story_key"]

TRACKING_PARAMS = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "gclsrc",
        "dclid",  # Google Display
        "gbraid",
        "wbraid",
        "msclkid",  # Microsoft Ads
        "mc_cid",  # Mailchimp
        "mc_eid",
        "igshid",  # Instagram
        "yclid",  # Yandex
        "twclid",  # Twitter/X
        "ttclid",  # TikTok
        "li_fat_id",  # LinkedIn
        "_ga",  # Google Analytics cross-domain
        "_gl",
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "ref_src",  # Twitter embeds
        "ref_url",
        "cmpid",  # campaign ids used by news sites
        "ocid",  # Microsoft/MSN
        "at_medium",  # AT Internet (BBC and others)
        "at_campaign",
        "at_link",
        "at_format",
        "at_ptr_name",
        "at_bbc_team",
        "smid",  # New York Times share id
        "sref",
        "ito",  # Guardian/Telegraph internal campaign
    }
)
TRACKING_PREFIXES = ("utm_", "at_custom", "pk_", "mtm_")  # Google/Matomo/Piwik campaigns

_DEFAULT_PORTS = frozenset({80, 443})
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_HEX = frozenset(string.hexdigits)
# Characters that may appear literally (besides unreserved): sub-delims, ":" "@", "/" and "?".
_PATH_SAFE = _UNRESERVED | frozenset("!$&'()*+,;=:@/")
_QUERY_SAFE = _PATH_SAFE | frozenset("?")
_QUERY_PART_SAFE = _QUERY_SAFE - frozenset("&=")


def _normalize_percent(component: str, safe: frozenset[str]) -> str:
    """Decode escaped unreserved characters, upper-case other escapes, escape what must be."""
    out: list[str] = []
    i = 0
    n = len(component)
    while i < n:
        ch = component[i]
        if ch == "%" and i + 2 < n and component[i + 1] in _HEX and component[i + 2] in _HEX:
            escape = component[i + 1 : i + 3]
            decoded = chr(int(escape, 16))
            out.append(decoded if decoded in _UNRESERVED else f"%{escape.upper()}")
            i += 3
            continue
        if ch in safe:
            out.append(ch)
        else:
            out.extend(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass"))
        i += 1
    return "".join(out)


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _canonical_query(query: str) -> str:
    kept: list[str] = []
    for pair in query.split("&"):
        if not pair:
            continue
        name, eq, value = pair.partition("=")
        decoded_name = _normalize_percent(name, _QUERY_PART_SAFE)
        # Compare the name with escapes of unreserved characters decoded ("utm%5Fsource").
        if _is_tracking(decoded_name.replace("+", " ")):
            continue
        kept.append(decoded_name + eq + _normalize_percent(value, _QUERY_PART_SAFE))
    return "&".join(sorted(kept))


def _canonical_host(parts: SplitResult) -> str | None:
    host = parts.hostname  # lower-cased, IPv6 brackets removed
    if not host:
        return None
    host = host.rstrip(".")
    if not host.isascii():
        # Not encodable (the stdlib codec is IDNA 2003): keep the lower-cased Unicode form.
        with contextlib.suppress(UnicodeError):
            host = host.encode("idna").decode("ascii")
    if host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return host


def canonical_url(url: str) -> str:
    """The identity form of `url` (see the module docstring for the rules)."""
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
        port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError:
        return stripped
    if parts.scheme.lower() not in ("http", "https"):
        return stripped
    host = _canonical_host(parts)
    if host is None:
        return stripped
    netloc = host
    if port is not None and port not in _DEFAULT_PORTS:
        netloc = f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    path = _normalize_percent(parts.path, _PATH_SAFE) or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    query = _canonical_query(parts.query)
    return f"https://{netloc}{path}" + (f"?{query}" if query else "")


def url_story_key(url: str) -> str:
    """`canonical_url` without the scheme, for matching the same story across feeds."""
    canonical = canonical_url(url)
    return canonical.removeprefix("https://")
