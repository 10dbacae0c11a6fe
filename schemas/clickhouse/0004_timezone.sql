-- The subscriber's IANA timezone (from the browser's Intl API, validated at
-- ingest), on every event and in the subscriber's current state, for local-time
-- campaign schedules, quiet hours and the segments `timezone` attribute.
ALTER TABLE events ADD COLUMN IF NOT EXISTS timezone LowCardinality(String) AFTER city;

ALTER TABLE subscribers ADD COLUMN IF NOT EXISTS timezone LowCardinality(String) AFTER country;

-- A materialized view's query cannot be altered in place: recreate it so it
-- copies the timezone. Both statements are idempotent, so a re-run after a
-- crash between them converges.
DROP VIEW IF EXISTS subscribers_mv;

CREATE MATERIALIZED VIEW IF NOT EXISTS subscribers_mv TO subscribers AS
SELECT
    site_id,
    subscriber_id,
    multiIf(type = 'subscribed', 'subscribed', type = 'unsubscribed', 'unsubscribed', 'expired') AS status,
    external_id,
    endpoint,
    p256dh,
    auth,
    browser,
    os,
    device_type,
    language,
    country,
    timezone,
    time AS updated_at
FROM events
WHERE type IN ('subscribed', 'unsubscribed', 'subscription_expired');
