package sender

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// offsetCommitter is the consumer-group side of a *kafka.Reader.
type offsetCommitter interface {
	CommitMessages(ctx context.Context, msgs ...kafka.Message) error
}

// committer commits, per partition, the highest offset below which every
// fetched message is finished. Messages of one partition are delivered
// concurrently, so a request being retried holds back the commit of its
// partition (not the delivery of the messages after it, nor other
// partitions); after a restart those are fetched again and skipped by the
// ledger.
type committer struct {
	reader offsetCommitter
	log    *slog.Logger

	mu     sync.Mutex
	parts  map[int][]*tracked // pending messages per partition, by offset
	ready  map[int]kafka.Message
	wake   chan struct{}
	closed chan struct{}
	once   sync.Once
}

type tracked struct {
	msg  kafka.Message
	done bool
}

func newCommitter(r offsetCommitter, log *slog.Logger) *committer {
	return &committer{
		reader: r, log: log, parts: map[int][]*tracked{}, ready: map[int]kafka.Message{},
		wake: make(chan struct{}, 1), closed: make(chan struct{}),
	}
}

// track registers a fetched message, before it is handed out.
func (c *committer) track(m kafka.Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.parts[m.Partition]
	i := sort.Search(len(p), func(i int) bool { return p[i].msg.Offset > m.Offset })
	p = append(p, nil)
	copy(p[i+1:], p[i:])
	p[i] = &tracked{msg: m}
	c.parts[m.Partition] = p
}

// done marks a message finished; what is contiguous from the oldest
// pending one becomes committable.
func (c *committer) done(m kafka.Message) {
	c.mu.Lock()
	p := c.parts[m.Partition]
	for _, t := range p {
		if t.msg.Offset == m.Offset && !t.done {
			t.done = true
			break
		}
	}
	n := 0
	for n < len(p) && p[n].done {
		n++
	}
	if n > 0 {
		c.ready[m.Partition] = p[n-1].msg
		c.parts[m.Partition] = p[n:]
	}
	c.mu.Unlock()
	if n > 0 {
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
}

// run commits what becomes committable until close, then commits the rest.
func (c *committer) run() {
	for {
		select {
		case <-c.wake:
			c.flush()
		case <-c.closed:
			c.flush()
			return
		}
	}
}

func (c *committer) close() { c.once.Do(func() { close(c.closed) }) }

func (c *committer) flush() {
	c.mu.Lock()
	msgs := make([]kafka.Message, 0, len(c.ready))
	for _, m := range c.ready {
		msgs = append(msgs, m)
	}
	clear(c.ready)
	c.mu.Unlock()
	if len(msgs) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.reader.CommitMessages(ctx, msgs...); err != nil {
		// After a rebalance the partition may belong to another member;
		// its messages are delivered again there and skipped by the ledger.
		c.log.Warn("commit push requests", "err", err, "partitions", len(msgs))
	}
}
