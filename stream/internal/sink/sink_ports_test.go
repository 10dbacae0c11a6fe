package sink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/schemas"
)

// Hand-written fakes of Consumer, DeadLetters and Store. They share a
// journal, so a test can assert the order of inserts, commits and
// dead-letter writes across them.

const testTopic = "events.test"

type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(format string, args ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, fmt.Sprintf(format, args...))
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]string(nil), j.entries...)
}

// fakeConsumer hands out queued messages, then blocks until ctx ends.
type fakeConsumer struct {
	j         *journal
	mu        sync.Mutex
	queue     []kafka.Message
	waiting   bool // FetchMessage is blocked on an empty queue
	commits   []kafka.Message
	commitErr func() error // when set and non-nil, CommitMessages fails with it
	more      chan struct{}
}

func newFakeConsumer(j *journal, msgs ...kafka.Message) *fakeConsumer {
	return &fakeConsumer{j: j, queue: msgs, more: make(chan struct{}, 1)}
}

// push queues more messages after Run started.
func (f *fakeConsumer) push(msgs ...kafka.Message) {
	f.mu.Lock()
	f.queue = append(f.queue, msgs...)
	f.mu.Unlock()
	select {
	case f.more <- struct{}{}:
	default:
	}
}

func (f *fakeConsumer) FetchMessage(ctx context.Context) (kafka.Message, error) {
	for {
		f.mu.Lock()
		if len(f.queue) > 0 {
			m := f.queue[0]
			f.queue = f.queue[1:]
			f.waiting = false
			f.mu.Unlock()
			return m, nil
		}
		f.waiting = true
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return kafka.Message{}, ctx.Err()
		case <-f.more:
		}
	}
}

// idle reports whether every queued message was fetched and the fetcher is
// back asking for more, so everything pushed is in the sink's hands.
func (f *fakeConsumer) idle() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue) == 0 && f.waiting
}

func (f *fakeConsumer) CommitMessages(_ context.Context, msgs ...kafka.Message) error {
	if f.commitErr != nil {
		if err := f.commitErr(); err != nil {
			f.j.add("commit-fail p%d@%d", msgs[0].Partition, msgs[0].Offset)
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range msgs {
		f.j.add("commit p%d@%d", m.Partition, m.Offset)
		f.commits = append(f.commits, m)
	}
	return nil
}

func (f *fakeConsumer) committed() []kafka.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]kafka.Message(nil), f.commits...)
}

// fakeDLQ records dead letters; failures > 0 fails that many writes first.
type fakeDLQ struct {
	j        *journal
	mu       sync.Mutex
	msgs     []kafka.Message
	failures int
}

func (f *fakeDLQ) WriteMessages(_ context.Context, msgs ...kafka.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		f.j.add("dlq-fail")
		return errors.New("broker unavailable")
	}
	for _, m := range msgs {
		f.j.add("dlq %s", headerValue(m, schemas.HeaderDLQOffset))
		f.msgs = append(f.msgs, m)
	}
	return nil
}

func (f *fakeDLQ) written() []kafka.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]kafka.Message(nil), f.msgs...)
}

// fakeStore keeps inserted batches and, like sink_progress_mv, the highest
// stored offset per partition. failures > 0 fails that many inserts first;
// failForever fails every insert.
type fakeStore struct {
	j           *journal
	mu          sync.Mutex
	batches     []Batch
	watermarks  map[int]int64
	failures    int
	failForever bool
	reads       int // Watermark calls
}

func newFakeStore(j *journal) *fakeStore {
	return &fakeStore{j: j, watermarks: map[int]int64{}}
}

func (f *fakeStore) InsertBatch(_ context.Context, b *Batch) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failForever || f.failures > 0 {
		f.failures--
		f.j.add("insert-fail %s", b.Token())
		return errors.New("clickhouse: timeout")
	}
	f.j.add("insert %s", b.Token())
	f.batches = append(f.batches, Batch{Topic: b.Topic, Partition: b.Partition, Rows: append([]Row(nil), b.Rows...)})
	if last := b.Rows[len(b.Rows)-1].Offset; last > f.watermarks[b.Partition] || !f.has(b.Partition) {
		f.watermarks[b.Partition] = last
	}
	return nil
}

func (f *fakeStore) has(p int) bool {
	_, ok := f.watermarks[p]
	return ok
}

func (f *fakeStore) Watermark(_ context.Context, _ string, partition int) (int64, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	wm, ok := f.watermarks[partition]
	return wm, ok, nil
}

func (f *fakeStore) RecentIDs(_ context.Context, _ string, partition int, after int64) ([]uuid.UUID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ids []uuid.UUID
	for _, b := range f.batches {
		for _, r := range b.Rows {
			if b.Partition == partition && r.Offset > after {
				ids = append(ids, r.ID)
			}
		}
	}
	return ids, nil
}

func (f *fakeStore) inserted() []Batch {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Batch(nil), f.batches...)
}

// offsets lists the offsets of b's rows.
func offsets(b Batch) []int64 {
	out := make([]int64, len(b.Rows))
	for i, r := range b.Rows {
		out[i] = r.Offset
	}
	return out
}

func headerValue(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// eventMsg is a valid event at partition p, offset off.
func eventMsg(t testing.TB, p int, off int64) kafka.Message {
	t.Helper()
	ev := schemas.Event{
		EventID: uuid.NewString(), SiteID: "site-1", SubscriberID: "sub-1",
		Type: schemas.EventPageView, Time: time.Now().UTC(),
	}
	v, err := json.Marshal(ev)
	require.NoError(t, err)
	return kafka.Message{Topic: testTopic, Partition: p, Offset: off, Key: []byte(ev.Key()), Value: v}
}

func eventMsgs(t testing.TB, p int, from, to int64) []kafka.Message {
	var out []kafka.Message
	for o := from; o <= to; o++ {
		out = append(out, eventMsg(t, p, o))
	}
	return out
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// harness runs a Sink over the fakes until stop is called.
type harness struct {
	j        *journal
	consumer *fakeConsumer
	dlq      *fakeDLQ
	store    *fakeStore
	sink     *Sink
	cancel   context.CancelFunc
	done     chan error
}

func startSink(t *testing.T, cfg Config, msgs ...kafka.Message) *harness {
	t.Helper()
	j := &journal{}
	h := &harness{j: j, consumer: newFakeConsumer(j, msgs...), dlq: &fakeDLQ{j: j}, store: newFakeStore(j)}
	return h.start(t, cfg)
}

func (h *harness) start(t *testing.T, cfg Config) *harness {
	t.Helper()
	if cfg.RetryMin == 0 {
		cfg.RetryMin, cfg.RetryMax = time.Millisecond, 5*time.Millisecond
	}
	h.sink = New(cfg, h.consumer, h.dlq, h.store, discardLogger())
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.sink.Run(ctx) }()
	t.Cleanup(func() { _ = h.stop(t) })
	return h
}

// stop cancels Run and returns its error (once; later calls return nil).
func (h *harness) stop(t *testing.T) error {
	t.Helper()
	h.cancel()
	select {
	case err, ok := <-h.done:
		if ok {
			close(h.done)
		}
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("sink did not stop within 10s")
		return nil
	}
}

// settle waits until every queued message was fetched.
func (h *harness) settle(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool { return h.consumer.idle() }, 5*time.Second, time.Millisecond)
}

func TestBatchToken(t *testing.T) {
	b := Batch{Topic: "events.v1", Partition: 5, Rows: []Row{{Offset: 100}, {Offset: 101}, {Offset: 250}}}
	require.Equal(t, "events.v1:5:100-250", b.Token())
}

// asMessage re-encodes a stored row as the message it came from.
func (r Row) asMessage(t testing.TB) kafka.Message {
	t.Helper()
	v, err := json.Marshal(r.Event)
	require.NoError(t, err)
	return kafka.Message{Topic: testTopic, Offset: r.Offset, Value: v}
}
