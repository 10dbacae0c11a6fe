package sink

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/pushpipe/pushpipe/schemas"
)

// Consumer is the consumer-group side of Kafka: fetch without committing,
// commit after the write. *kafka.Reader satisfies it.
type Consumer interface {
	FetchMessage(ctx context.Context) (kafka.Message, error)
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// DeadLetters receives the messages that cannot be decoded. A *kafka.Writer
// bound to schemas.TopicEventsDLQ satisfies it.
type DeadLetters interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Store is the ClickHouse side: insert one partition's batch atomically and
// idempotently, and tell how far a partition is already stored.
type Store interface {
	// InsertBatch writes every row of b in one INSERT carrying b.Token() as
	// deduplication token; inserting the same batch twice stores it once.
	InsertBatch(ctx context.Context, b *Batch) error
	// Watermark returns the highest offset of topic/partition already stored,
	// and ok=false when nothing of that partition is stored.
	Watermark(ctx context.Context, topic string, partition int) (offset int64, ok bool, err error)
	// RecentIDs returns the event ids of the stored rows of topic/partition
	// with an offset above after, to refill the dedup window after a resync.
	RecentIDs(ctx context.Context, topic string, partition int, after int64) ([]uuid.UUID, error)
}

// Row is one decoded event and the Kafka position it came from.
type Row struct {
	ID     uuid.UUID // Event.EventID, parsed
	Event  schemas.Event
	Offset int64
}

// Batch is consecutive rows of one topic partition, in offset order.
type Batch struct {
	Topic     string
	Partition int
	Rows      []Row
}

// Token is the insert deduplication token of the batch:
// "<topic>:<partition>:<firstOffset>-<lastOffset>". A retry sends the same
// batch, so a retry after an ambiguous failure carries the same token.
func (b *Batch) Token() string {
	if len(b.Rows) == 0 {
		return fmt.Sprintf("%s:%d:empty", b.Topic, b.Partition)
	}
	return fmt.Sprintf("%s:%d:%d-%d", b.Topic, b.Partition, b.Rows[0].Offset, b.Rows[len(b.Rows)-1].Offset)
}
