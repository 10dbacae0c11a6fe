-- Segment transitions are ordinary events (segment_entered / segment_exited,
-- written by the segment evaluator to the events topic and stored by the
-- sink), so ClickHouse gets them exactly once like every other event. Two
-- materialized views keep what the dashboard reads: the current membership
-- and the history of changes. The cause of a transition is in events.reason
-- (event, timer, backfill, definition_changed).

-- Current membership, latest transition wins. A subscriber's events stay in
-- one Kafka partition (key site:subscriber), so the offset orders them.
-- Query with FINAL and member = 1.
CREATE TABLE IF NOT EXISTS segment_membership
(
    site_id       LowCardinality(String),
    segment_id    String,
    subscriber_id String,
    member        UInt8,
    changed_at    DateTime64(3, 'UTC'),
    cause         LowCardinality(String),
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, segment_id, subscriber_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS segment_membership_mv TO segment_membership AS
SELECT
    site_id,
    segment_id,
    subscriber_id,
    toUInt8(type = 'segment_entered') AS member,
    time AS changed_at,
    reason AS cause,
    kafka_offset AS version
FROM events
WHERE type IN ('segment_entered', 'segment_exited');

-- Every transition, for segment sizes over time and a subscriber's timeline.
CREATE TABLE IF NOT EXISTS segment_history
(
    site_id       LowCardinality(String),
    segment_id    String,
    subscriber_id String,
    time          DateTime64(3, 'UTC'),
    entered       UInt8,
    cause         LowCardinality(String)
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (site_id, segment_id, time, subscriber_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS segment_history_mv TO segment_history AS
SELECT
    site_id,
    segment_id,
    subscriber_id,
    time,
    toUInt8(type = 'segment_entered') AS entered,
    reason AS cause
FROM events
WHERE type IN ('segment_entered', 'segment_exited');
