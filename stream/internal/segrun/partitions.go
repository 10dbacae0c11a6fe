package segrun

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// partitionLog is what a restore reads of the topic: a partition's end and
// the messages of a range.
type partitionLog interface {
	LastOffset(ctx context.Context, part int) (int64, error)
	Scan(ctx context.Context, part int, from, to int64, fn func([]byte)) error
}

// partitions reads single partitions of the topic outside the group: the
// owners' readers and the tail scan of a restore.
type partitions struct {
	brokers []string
	topic   string
}

func (p *partitions) reader(part int, offset int64) (*kafka.Reader, error) {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: p.brokers, Topic: p.topic, Partition: part,
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond,
	})
	if err := r.SetOffset(offset); err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("seek %s/%d to %d: %w", p.topic, part, offset, err)
	}
	return r, nil
}

// offsets returns the partition's first offset and its end (the offset the
// next message will get).
func (p *partitions) offsets(ctx context.Context, part int) (first, end int64, err error) {
	var lastErr error
	for _, b := range p.brokers {
		conn, err := kafka.DialLeader(ctx, "tcp", b, p.topic, part)
		if err != nil {
			lastErr = err
			continue
		}
		defer func() { _ = conn.Close() }()
		first, end, err = conn.ReadOffsets()
		if err != nil {
			return 0, 0, fmt.Errorf("read offsets of %s/%d: %w", p.topic, part, err)
		}
		return first, end, nil
	}
	return 0, 0, fmt.Errorf("dial the leader of %s/%d: %w", p.topic, part, lastErr)
}

// LastOffset is the partition's end.
func (p *partitions) LastOffset(ctx context.Context, part int) (int64, error) {
	_, end, err := p.offsets(ctx, part)
	return end, err
}

// Scan calls fn with the value of each message in [from, to).
func (p *partitions) Scan(ctx context.Context, part int, from, to int64, fn func([]byte)) error {
	if from >= to {
		return nil
	}
	r, err := p.reader(part, from)
	if err != nil {
		return err
	}
	defer func() { _ = r.Close() }()
	for {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return fmt.Errorf("scan %s/%d: %w", p.topic, part, err)
		}
		fn(m.Value)
		if m.Offset+1 >= to {
			return nil
		}
	}
}
