"""Delivery: turn queued alerts into digests and hand them to channels.

`digest` builds a `Digest` from pending entries (pure) and serialises it for the delivery
row, so a retry sends exactly the same digest. `render` turns a digest into text and HTML
(Jinja2 templates in the repo's `templates/` folder). Channels implement
`alerts.delivery.base.Channel`: `email` (SMTP or an `.eml` outbox folder), `slack`
(incoming webhook, Block Kit) and `webhook` (signed JSON, see docs/webhook-schema.md).
`retry` computes when a failed delivery is tried again; `schedule` when a digest is due.

This layer knows nothing about storage, feeds or scheduling libraries; keep it that way
(no sqlalchemy, feedparser or apscheduler imports here).
"""
