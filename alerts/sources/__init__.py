"""Sources: turn a feed URL into `Item`s.

`fetch` downloads politely (one shared httpx client, bounded concurrency, conditional GET,
size cap, redirects followed by hand), `parse` reads the bytes (RSS, Atom, RDF through
feedparser; JSON Feed with the stdlib), `text` makes feed HTML safe (plain text for matching,
sanitised HTML for display), `article` extracts an article page's main text and metadata,
`boilerplate` drops page furniture (promo boxes, newsletter sign-ups, privacy footers) from
feed and page text, and `backoff` says when to poll again. Failures leave as `FetchError` /
`ParseError` / `ExtractionError` carrying the feed name.

This layer knows nothing of the store, templates or scheduling: it must not import
sqlalchemy, jinja2 or apscheduler.
"""
