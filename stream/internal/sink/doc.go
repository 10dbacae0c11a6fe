// Package sink is the consumer loop that copies events from Kafka
// (schemas.TopicEvents) into the ClickHouse table events, exactly once.
//
// The loop fetches without committing, groups decoded events into one batch
// per topic partition, inserts a batch when it reaches Config.BatchSize rows
// or Config.BatchInterval of age, and commits the partition's offset only
// after the insert returned OK. Undecodable messages are written to the
// dead-letter topic with the reason and count as processed. The replay
// watermark and the insert deduplication token that make a replay harmless
// are described in the documentation of package stream.
//
// It meets the outside world through three small interfaces (Consumer,
// DeadLetters, Store) so the loop is unit-tested with the fakes in
// sink_ports_test.go; ClickHouse implements Store against a real server.
//
// It does not create topics or tables, does not own its clients (the caller
// closes them after Run returns), and writes only the events table: the
// subscribers and sink_progress tables are kept by materialized views.
package sink
