"""Delivery: turn queued alerts into digests and hand them to channels.

`digest` builds a `Digest` from pending entries (pure) and serialises it for the delivery
row, so a retry sends exactly the same digest. `render` turns a digest into text and HTML
(Jinja2 templates in the repo's `templates/` folder); `labels` turns a story's facets into
the short tags every channel shows with it ("EU", "Sanctions package", "Russia").
Channels implement `alerts.delivery.base.Channel`: `email` (SMTP or an `.eml` outbox
folder), `slack` (incoming webhook, Block Kit), `teams` (Workflows webhook, Adaptive
Card), `discord` (embeds) and `webhook` (signed JSON, see docs/webhooks.md). `schedule`
says when a digest is due and when quiet hours end; `policy` what a subscription sends now
(urgent matches, quiet hours, heartbeats); `retry` when a failed delivery is tried again;
`tokens` and `links` sign the unsubscribe, confirmation and full-digest links.

This layer knows nothing about storage, feeds or scheduling libraries; keep it that way
(no sqlalchemy, feedparser or apscheduler imports here).
"""
