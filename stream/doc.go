// Package stream is the stream role: the Kafka consumers behind ClickHouse.
// Today that is the sink, which copies every event of schemas.TopicEvents
// into the ClickHouse table events, exactly once. (The segment evaluator and
// automations will join it here.)
//
// Use: cfg := LoadConfig(r); cfg.Validate(); s, err := New(cfg, Deps{...}, log);
// s.Run(ctx). Run consumes until ctx ends, then drains within
// Config.DrainTimeout: it inserts what is buffered, commits, and closes the
// Kafka reader, the dead-letter writer and the ClickHouse connection.
//
// # The loop
//
// A consumer group (PUSHPIPE_SINK_GROUP) reads schemas.TopicEvents with
// FetchMessage and commits only with CommitMessages (CommitInterval 0, never
// ReadMessage). Decoded events are buffered in one batch per topic partition;
// a batch is inserted when it holds PUSHPIPE_SINK_BATCH_SIZE rows or its
// oldest message is PUSHPIPE_SINK_BATCH_INTERVAL old, and the partition's
// offset is committed right after that insert returned OK. A failed insert is
// retried with capped exponential backoff (100ms doubling to 10s), logged on
// the first failure, every tenth and the recovery; while it fails the loop
// waits and the fetcher blocks on a bounded queue (back-pressure on all
// partitions; nothing is dropped, nothing committed).
//
// An undecodable message (invalid JSON; no event_id, site_id or type; an
// event_id that is not a UUID) is written synchronously to
// schemas.TopicEventsDLQ with its original key, value and headers plus
// schemas.HeaderDLQReason, HeaderDLQTopic, HeaderDLQPartition and
// HeaderDLQOffset, and then counts as processed: the partition flows on and
// the next commit covers it.
//
// The sink writes only events. The materialized view subscribers_mv keeps
// subscribers current from subscribed/unsubscribed/subscription_expired
// events, and sink_progress_mv keeps sink_progress, in the same INSERT.
//
// # Exactly once
//
// Kafka delivers at least once: after a crash between an insert and its
// commit, or a rebalance, messages come again. Three rules make a repeat
// harmless.
//
//  1. Every row stores its origin (kafka_topic, kafka_partition,
//     kafka_offset), and sink_progress_mv records max(kafka_offset) per
//     topic/partition in sink_progress as part of the same INSERT: the replay
//     watermark. Whenever the sink sees a message whose offset is not the one
//     it expected next for that partition (the first message after a start
//     or a rebalance, a rewind, or a forward jump), it reloads the watermark
//     with SELECT count(), max(max_offset) FROM sink_progress WHERE topic = ?
//     AND partition = ? (count tells "nothing stored" from "offset 0 stored")
//     and skips every message at or below it: it is already stored. Rows it
//     had buffered at or below the watermark are dropped for the same reason,
//     and on a rewind the buffered rows at or after the new position are
//     dropped because they are delivered again.
//  2. Each INSERT carries insert_deduplication_token =
//     "<topic>:<partition>:<firstOffset>-<lastOffset>". A failed insert is
//     retried with the very same batch, so when the failure was ambiguous (a
//     timeout after the server applied it) ClickHouse drops the repeat: events
//     keeps a non_replicated_deduplication_window.
//  3. A partition's offset is committed only after the insert covering it
//     returned OK. A failed commit is not fatal: it is tried again after
//     another interval, a later commit covers it, and a replay of it is
//     skipped by rule 1.
//
// A fourth rule concerns the event, not the message: the browser makes event
// ids, so a beacon retried after an ambiguous failure (ingest produced it, the
// answer was lost) reaches Kafka twice, as two messages. Its key
// (site:subscriber) puts both on the same partition, seconds apart. The sink
// remembers the event ids of the last sink.DefaultDedupWindow rows of each
// partition (stored or buffered) and drops a repeat; after a resync it
// refills that window from ClickHouse (the ids stored just below the
// watermark, found through the kafka_position skip index), so a restart does
// not forget it. A repeat further apart than the window is stored twice.
//
// Rule 1 is sound because, within a partition, batches are inserted in offset
// order and a batch is never abandoned for a later one: below the highest
// stored offset every message is either stored or dead-lettered.
//
// # Limits (non-obvious)
//
//   - One writer per partition. The scheme assumes only one sink inserts a
//     partition at a time, which the consumer group gives except for a short
//     window in a rebalance: a member that just lost a partition may still
//     flush its last batch (at most BatchInterval old) after the new owner
//     read the watermark, and then those rows are stored twice. kafka-go has
//     no revocation callback to close that window. Never run two consumer
//     groups of the sink on one topic: both would insert.
//   - A dead-lettered message can be dead-lettered again after a crash (the
//     DLQ is at least once); readers of the DLQ should key on the
//     topic/partition/offset headers.
//   - Deleting and recreating the topic restarts its offsets while
//     sink_progress remembers the old ones: delete its rows of sink_progress
//     (ALTER TABLE sink_progress DELETE WHERE topic = ...) first, or the sink
//     skips the new messages as stored.
//   - Times outside what DateTime64(3) can encode are clamped (1900..2262),
//     and the per-insert partition limit only warns, so one absurd client
//     clock cannot fail a batch forever.
package stream
