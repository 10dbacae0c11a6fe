-- The sender's durable idempotency record: one row per push request it has
-- finished (delivered, refused or given up on). The sender checks it before
-- sending and writes it after, so a request id is delivered at most once
-- across restarts and rebalances (see sender/doc.go for the exact bound).
CREATE TABLE IF NOT EXISTS push_deliveries (
    request_id text PRIMARY KEY,
    site_id    uuid NOT NULL,
    outcome    text NOT NULL, -- push_sent, push_failed or subscription_expired
    status     integer NOT NULL DEFAULT 0, -- last HTTP status from the push service; 0: none
    attempts   integer NOT NULL DEFAULT 0,
    sent_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS push_deliveries_site_sent ON push_deliveries (site_id, sent_at);
