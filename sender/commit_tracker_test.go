package sender

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"
)

type fakeCommits struct {
	mu        sync.Mutex
	committed map[int]int64
}

func (f *fakeCommits) CommitMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range msgs {
		f.committed[m.Partition] = m.Offset
	}
	return nil
}

func TestCommitterCommitsContiguousOffsetsPerPartition(t *testing.T) {
	f := &fakeCommits{committed: map[int]int64{}}
	c := newCommitter(f, slog.New(slog.DiscardHandler))
	msg := func(p int, o int64) kafka.Message { return kafka.Message{Partition: p, Offset: o} }
	for o := int64(10); o < 14; o++ {
		c.track(msg(0, o))
	}
	c.track(msg(1, 5))
	c.done(msg(0, 11)) // 10 still in flight: nothing of partition 0 is committable
	c.done(msg(0, 13))
	c.done(msg(1, 5)) // other partitions are not held back
	c.flush()
	require.Equal(t, map[int]int64{1: 5}, f.committed)

	c.done(msg(0, 10))
	c.flush()
	require.Equal(t, int64(11), f.committed[0], "10 and 11 are done, 12 is not")

	c.done(msg(0, 12))
	c.flush()
	require.Equal(t, int64(13), f.committed[0])
}

func TestCommitterRedeliveredOffsets(t *testing.T) {
	f := &fakeCommits{committed: map[int]int64{}}
	c := newCommitter(f, slog.New(slog.DiscardHandler))
	m := kafka.Message{Partition: 2, Offset: 7}
	c.track(m)
	c.track(m) // handed out again after a rebalance while the first copy runs
	c.done(m)
	c.flush()
	require.Equal(t, int64(7), f.committed[2])
	c.done(m)
	c.flush()
	require.Equal(t, int64(7), f.committed[2])
}
