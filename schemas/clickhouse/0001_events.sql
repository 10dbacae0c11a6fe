-- Every event, one row each. Rows are written only by the stream sink, which
-- records where each came from (kafka_topic/partition/offset) so a replay after
-- a crash can skip what is already stored (see sink_progress below).
CREATE TABLE IF NOT EXISTS events
(
    event_id        UUID,
    site_id         LowCardinality(String),
    subscriber_id   String,
    external_id     String,
    session_id      String,
    type            LowCardinality(String),
    name            LowCardinality(String),
    time            DateTime64(3, 'UTC'),
    client_time     DateTime64(3, 'UTC'),
    server_time     DateTime64(3, 'UTC'),
    url             String,
    referrer        String,
    title           String,
    props           Map(LowCardinality(String), String),
    revenue         Float64,
    currency        LowCardinality(String),
    browser         LowCardinality(String),
    browser_version LowCardinality(String),
    os              LowCardinality(String),
    device_type     LowCardinality(String),
    language        LowCardinality(String),
    country         LowCardinality(String),
    region          LowCardinality(String),
    city            String,
    ip              String,
    push_id         String,
    campaign_id     String,
    automation_id   String,
    action          String,
    prompt_variant  LowCardinality(String),
    segment_id      String,
    reason          String,
    endpoint        String,
    p256dh          String,
    auth            String,
    kafka_topic     LowCardinality(String),
    kafka_partition UInt32,
    kafka_offset    UInt64
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (site_id, toDate(time), type, subscriber_id, time)
SETTINGS non_replicated_deduplication_window = 10000;

-- The highest Kafka offset stored per topic partition, kept by a materialized
-- view in the same INSERT as the events: the sink's replay watermark.
CREATE TABLE IF NOT EXISTS sink_progress
(
    topic      LowCardinality(String),
    partition  UInt32,
    max_offset SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (topic, partition);

CREATE MATERIALIZED VIEW IF NOT EXISTS sink_progress_mv TO sink_progress AS
SELECT kafka_topic AS topic, kafka_partition AS partition, max(kafka_offset) AS max_offset
FROM events
GROUP BY topic, partition;

-- The current state of each subscriber, latest event wins (query with FINAL or argMax).
CREATE TABLE IF NOT EXISTS subscribers
(
    site_id       LowCardinality(String),
    subscriber_id String,
    status        LowCardinality(String),
    external_id   String,
    endpoint      String,
    p256dh        String,
    auth          String,
    browser       LowCardinality(String),
    os            LowCardinality(String),
    device_type   LowCardinality(String),
    language      LowCardinality(String),
    country       LowCardinality(String),
    updated_at    DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY (site_id, subscriber_id);

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
    time AS updated_at
FROM events
WHERE type IN ('subscribed', 'unsubscribed', 'subscription_expired');
