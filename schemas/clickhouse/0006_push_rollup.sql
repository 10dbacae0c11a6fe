-- The campaign, automation, step and variant of every push, from its
-- push_sent event, by push id: the dashboards give each click, delivery and
-- close (whose events carry only the push id and the campaign or
-- automation) the step and variant of its push. Read from the events, that
-- is every push_sent of the site with its props map, grouped by push id;
-- here it is a lookup of narrow columns in push id order. Kept by a
-- materialized view in the same INSERT as the events.
-- A row is a fact about a push, not a count: a duplicate row changes no
-- answer (read it with any(), GROUP BY push_id). So the backfill below
-- needs no epoch (unlike 0005's rollups): the view exists first, and the
-- rows inserted meanwhile, or copied again by a re-run of a migration cut
-- short, are only duplicates, which ReplacingMergeTree folds in time.
CREATE TABLE IF NOT EXISTS push_sent_meta
(
    site_id       LowCardinality(String),
    push_id       String,
    time          DateTime64(3, 'UTC'),
    campaign_id   String,
    automation_id String,
    step_id       String,
    variant       String
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(time)
ORDER BY (site_id, push_id, time);

CREATE MATERIALIZED VIEW IF NOT EXISTS push_sent_meta_mv TO push_sent_meta AS
SELECT site_id, push_id, time, campaign_id, automation_id, props['step_id'] AS step_id, props['variant'] AS variant
FROM events
WHERE type = 'push_sent' AND push_id != '';

INSERT INTO push_sent_meta
SELECT site_id, push_id, time, campaign_id, automation_id, props['step_id'] AS step_id, props['variant'] AS variant
FROM events
WHERE type = 'push_sent' AND push_id != '';
