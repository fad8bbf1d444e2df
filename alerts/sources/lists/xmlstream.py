"""Hardened, streaming XML reading shared by the list parsers.

Official list files are tens of MB and come from servers we do not control, so the parser
never resolves entities, never touches the network, loads no DTD, keeps libxml2's size
limits (`huge_tree=False`), refuses any DOCTYPE (official files have none; a DOCTYPE with
entities is how a "billion laughs" file blows up memory) and frees each record once read.
Elements are matched on local names because publishers change namespaces over time.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Any

import lxml.etree  # type: ignore[import-untyped]

from alerts.sources.lists.model import ListFormatError, content_hash

Source = bytes | IO[bytes]

# libxml2's code for "Opening and ending tag mismatch": a broken file, not a short one.
_TAG_MISMATCH = 76


class _CountingReader:
    """Wraps the input to know, when the parser fails, whether it had reached the end."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.lines = 1
        self.size = 0
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        if not chunk:
            self.eof = True
        self.size += len(chunk)
        self.lines += chunk.count(b"\n")
        return chunk


def local(tag: object) -> str:
    """The local part of a tag name ("{ns}sdnEntry" -> "sdnEntry")."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def stream(
    source: Source,
    *,
    list_name: str,
    label: str,
    roots: frozenset[str],
    records: frozenset[str],
    headers: frozenset[str] = frozenset(),
) -> Iterator[tuple[str, Any]]:
    """Yield the root element first (on its start tag: attributes only), then every record
    and header element on its end tag, as `(local name, element)`.

    Each yielded element is cleared, with its earlier siblings, once the caller moves on, so
    memory stays flat however long the file is. Raises `ListFormatError` naming the list and
    the problem (wrong root, DOCTYPE, malformed or truncated XML).
    """
    raw = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    reader = _CountingReader(raw)
    wanted = records | headers
    events = lxml.etree.iterparse(
        reader,
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    open_tags: list[tuple[str, int]] = []
    try:
        for event, element in events:
            name = local(element.tag)
            if event == "start":
                if not open_tags:
                    _check_root(element, name, list_name=list_name, label=label, roots=roots)
                    open_tags.append((name, element.sourceline or 0))
                    yield name, element
                else:
                    open_tags.append((name, element.sourceline or 0))
                continue
            open_tags.pop()
            if name in wanted:
                yield name, element
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
    except lxml.etree.XMLSyntaxError as exc:
        problem = _explain(exc, reader, open_tags, records)
        raise ListFormatError(list_name, f"{label}: {problem}") from None
    if reader.size == 0:
        raise ListFormatError(list_name, f"{label}: the file is empty")


def _check_root(
    element: Any, name: str, *, list_name: str, label: str, roots: frozenset[str]
) -> None:
    docinfo = element.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise ListFormatError(
            list_name,
            f"{label}: the file declares XML entities in a DOCTYPE; refused "
            "(entity expansion could exhaust memory)",
        )
    if name not in roots:
        expected = " or ".join(f"<{r}>" for r in sorted(roots))
        raise ListFormatError(
            list_name, f"{label}: expected a {expected} document, found <{name}> (wrong file?)"
        )
    if dtd is not None or docinfo.doctype:
        raise ListFormatError(
            list_name, f"{label}: the file has a DOCTYPE, which official list files never do"
        )


def _explain(
    exc: lxml.etree.XMLSyntaxError,
    reader: _CountingReader,
    open_tags: list[tuple[str, int]],
    records: frozenset[str],
) -> str:
    line = exc.lineno or 0
    message = str(exc.msg).rsplit(", line ", 1)[0]
    if reader.size == 0 or (reader.eof and not reader.size):
        return "the file is empty"
    if not open_tags and line <= 1:
        return f"the file is not XML ({message})"
    # A download cut short fails on its very last line, with elements still open.
    if open_tags and reader.eof and line >= reader.lines and exc.code != _TAG_MISMATCH:
        inner = next((t for t in reversed(open_tags) if t[0] in records), open_tags[-1])
        return (
            f"the file ends inside <{inner[0]}> (opened at line {inner[1]}) at line {line} "
            "(truncated download?)"
        )
    column = exc.position[1] if exc.position else 0
    return f"malformed XML at line {line}, column {column}: {message}"


def text(element: Any, path: str) -> str:
    """Whitespace-normalised text at a slash-separated path of local names ("" if absent)."""
    found = element.findtext(_any_ns(path))
    return " ".join(found.split()) if found else ""


def texts(element: Any, path: str) -> list[str]:
    """Every non-empty normalised text at a path of local names, in document order."""
    out = []
    for found in element.iterfind(_any_ns(path)):
        value = " ".join((found.text or "").split())
        if value:
            out.append(value)
    return out


def children(element: Any, path: str) -> list[Any]:
    """The elements at a path of local names."""
    return list(element.iterfind(_any_ns(path)))


def record_hash(element: Any) -> str:
    """Hash a record's names, attributes and texts, ignoring namespaces and whitespace."""
    return content_hash(_canonical(element))


def _canonical(element: Any) -> Iterator[str]:
    yield "<" + local(element.tag)
    for key, value in sorted((local(k), " ".join(v.split())) for k, v in element.attrib.items()):
        yield f"@{key}={value}"
    if element.text and element.text.strip():
        yield "=" + " ".join(element.text.split())
    for child in element:
        if isinstance(child.tag, str):
            yield from _canonical(child)
    yield ">"


def _any_ns(path: str) -> str:
    return "/".join("{*}" + part for part in path.split("/"))
