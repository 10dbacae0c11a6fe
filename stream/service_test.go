package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"
	"github.com/stretchr/testify/require"

	"github.com/pushpipe/pushpipe/internal/chx"
	"github.com/pushpipe/pushpipe/internal/kafkax"
	"github.com/pushpipe/pushpipe/internal/testkit"
	"github.com/pushpipe/pushpipe/internal/testkit/testdb"
	"github.com/pushpipe/pushpipe/schemas"
	"github.com/pushpipe/pushpipe/stream/internal/sink"
)

// The integration tests run the real service against the real Kafka and
// ClickHouse. Each test consumes a topic of its own (created here, deleted
// at the end) so that no other sink running meanwhile can insert the same
// messages, and scopes every query by a fresh site_id.

func TestNewChecksDeps(t *testing.T) {
	cfg := Config{Topic: "events.v1", Group: "g", SegmentsGroup: "s", BatchSize: 10, BatchInterval: time.Second, DrainTimeout: time.Second}
	_, err := New(cfg, Deps{}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "no ClickHouse connection")
	require.ErrorContains(t, err, "no Kafka brokers")

	_, err = New(Config{}, Deps{}, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, "PUSHPIPE_SINK_BATCH_SIZE", "config problems are reported too")

	s, err := New(cfg, Deps{ClickHouse: nopConn{}, Brokers: []string{"127.0.0.1:1"}}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, schemas.TopicEvents, s.topic)
	require.Equal(t, schemas.TopicEventsDLQ, s.dlq.Topic)
	require.Equal(t, "g", s.readerCfg.GroupID)
	require.Nil(t, s.reader.Reader, "no group membership before Run")
}

type nopConn struct{ driver.Conn }

func TestSinkStoresEachEventOnce(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	site := uuid.NewString()
	const n = 600
	st.produce(t, newEvents(site, n)...)

	r := st.start(t, testConfig(t, 64), nil)
	st.waitForCount(t, site, n)
	require.NoError(t, r.stop())
	count, distinct := st.counts(t, site)
	require.Equal(t, uint64(n), count)
	require.Equal(t, uint64(n), distinct)
	require.Equal(t, int64(n), r.svc.Stats().Inserted)

	var topics, offsets uint64
	var topic string
	require.NoError(t, st.ch.QueryRow(t.Context(), `SELECT uniqExact(kafka_topic), any(kafka_topic),
		uniqExact(kafka_partition, kafka_offset) FROM events WHERE site_id = ?`, site).Scan(&topics, &topic, &offsets))
	require.Equal(t, uint64(1), topics)
	require.Equal(t, st.topic, topic)
	require.Equal(t, uint64(n), offsets, "each row records its own Kafka position")
}

func TestSinkCrashBetweenInsertAndCommit(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	site := uuid.NewString()
	const n = 300
	st.produce(t, newEvents(site, n)...)
	cfg := testConfig(t, 50)
	cfg.DrainTimeout = 2 * time.Second

	// First sink: its first insert reaches ClickHouse, then the process
	// "dies": the run is cancelled, every later insert fails, nothing commits.
	ctx, cancel := context.WithCancel(context.Background())
	crash := &crashingStore{crash: cancel}
	first := st.startCtx(t, ctx, cfg, func(s sink.Store) sink.Store { crash.Store = s; return crash })
	err := first.wait()
	require.ErrorIs(t, err, sink.ErrDrainBudget)
	stored, _ := st.counts(t, site)
	require.Equal(t, uint64(crash.firstRows), stored, "the crashed insert is in ClickHouse")
	require.Positive(t, stored)
	require.Equal(t, map[int]int64{0: -1, 1: -1, 2: -1}, st.committed(t, cfg.Group), "nothing was committed")

	// Second sink on the same group replays from the start.
	second := st.start(t, cfg, nil)
	st.waitForCount(t, site, n)
	require.NoError(t, second.stop())
	count, distinct := st.counts(t, site)
	require.Equal(t, uint64(n), count, "nothing lost, nothing twice")
	require.Equal(t, uint64(n), distinct)
	require.Equal(t, int64(crash.firstRows), second.svc.Stats().Skipped, "the stored batch was skipped by the watermark")
	require.Equal(t, st.ends(t, st.topic), st.committed(t, cfg.Group), "every partition committed to its end")
}

func TestSinkRetryAfterAmbiguousInsertIsDeduplicated(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	site := uuid.NewString()
	const n = 200
	st.produce(t, newEvents(site, n)...)

	// Every batch is applied by ClickHouse, then reported as failed once: the
	// sink retries the same batch with the same deduplication token.
	amb := &ambiguousStore{seen: map[string]bool{}}
	r := st.start(t, testConfig(t, 40), func(s sink.Store) sink.Store { amb.Store = s; return amb })
	st.waitForCount(t, site, n)
	require.Eventually(t, func() bool { return r.svc.Stats().Inserted == n }, 30*time.Second, 20*time.Millisecond)
	require.NoError(t, r.stop())
	count, distinct := st.counts(t, site)
	require.Equal(t, uint64(n), count, "ClickHouse dropped every repeated batch")
	require.Equal(t, uint64(n), distinct)
	require.Equal(t, 2*int(r.svc.Stats().Batches), amb.calls(), "every batch was sent twice")
}

func TestSinkDeadLettersGarbageAndKeepsFlowing(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	site := uuid.NewString()
	dlqStart := st.ends(t, schemas.TopicEventsDLQ)
	evs := newEvents(site, 2)
	evs[1].SubscriberID = evs[0].SubscriberID // same key, same partition as the garbage
	key := []byte(evs[0].Key())
	garbage := kafka.Message{Key: key, Value: []byte(`{"site_id":"` + site + `","type":"page_view","event_id":"nope"}`)}
	first, second := eventMessage(t, evs[0]), eventMessage(t, evs[1])
	st.produceMsgs(t, first, garbage, second)

	r := st.start(t, testConfig(t, 100), nil)
	st.waitForCount(t, site, 2)
	require.NoError(t, r.stop())
	require.Equal(t, int64(1), r.svc.Stats().DeadLettered)

	dl := st.findDLQ(t, dlqStart, garbage.Value)
	require.Equal(t, key, dl.Key)
	require.Equal(t, `event_id "nope" is not a UUID`, header(dl, schemas.HeaderDLQReason))
	require.Equal(t, st.topic, header(dl, schemas.HeaderDLQTopic))
	part, err := strconv.Atoi(header(dl, schemas.HeaderDLQPartition))
	require.NoError(t, err)
	off, err := strconv.ParseInt(header(dl, schemas.HeaderDLQOffset), 10, 64)
	require.NoError(t, err)
	var evPart uint32
	var evOff uint64
	require.NoError(t, st.ch.QueryRow(t.Context(),
		`SELECT kafka_partition, kafka_offset FROM events WHERE site_id = ? AND event_id = ?`, site, evs[1].EventID).
		Scan(&evPart, &evOff))
	require.Equal(t, uint32(part), evPart, "the event after the garbage came from the same partition")
	require.Equal(t, uint64(off+1), evOff, "and was stored right after it")
}

func TestSinkKeepsSubscribersCurrent(t *testing.T) {
	t.Parallel()
	st := newStack(t)
	site := uuid.NewString()
	at := time.Now().UTC().Truncate(time.Millisecond)
	sub := schemas.Event{
		EventID: uuid.NewString(), SiteID: site, SubscriberID: "s1", Type: schemas.EventSubscribed,
		Time: at, ClientTime: at, ServerTime: at,
		Subscription: &schemas.Subscription{Endpoint: "https://push.example/abc", P256dh: "p", Auth: "a"},
	}
	unsub := sub
	unsub.EventID, unsub.Type, unsub.Subscription = uuid.NewString(), schemas.EventUnsubscribed, nil
	unsub.Time = at.Add(time.Second)
	st.produce(t, sub, unsub)

	r := st.start(t, testConfig(t, 100), nil)
	st.waitForCount(t, site, 2)
	require.NoError(t, r.stop())
	var status, endpoint string
	require.NoError(t, st.ch.QueryRow(t.Context(),
		`SELECT status, endpoint FROM subscribers FINAL WHERE site_id = ? AND subscriber_id = ?`, site, "s1").
		Scan(&status, &endpoint))
	require.Equal(t, "unsubscribed", status)
	require.NoError(t, st.ch.QueryRow(t.Context(),
		`SELECT endpoint FROM events WHERE site_id = ? AND type = 'subscribed'`, site).Scan(&endpoint))
	require.Equal(t, "https://push.example/abc", endpoint)
}

// --- fixtures ---------------------------------------------------------------

type stack struct {
	brokers []string
	dsn     string
	ch      driver.Conn // for assertions
	topic   string      // this test's own copy of events.v1
	client  *kafka.Client
	log     *slog.Logger
}

func newStack(t *testing.T) *stack {
	t.Helper()
	brokers := strings.Split(testkit.Kafka(t), ",")
	dsn := testkit.ClickHouse(t)
	st := &stack{brokers: brokers, dsn: dsn, client: &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 10 * time.Second}}
	st.log = testLogger(t)
	st.ch = testdb.ClickHouse(t)
	st.topic = "test.events.v1." + uuid.NewString()[:8]
	_, err := kafkax.EnsureTopics(t.Context(), brokers, 3, 1, st.topic) // waits for the partitions' leaders
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := kafkax.DeleteTopics(context.Background(), brokers, st.topic); err != nil {
			t.Logf("delete topic %s: %v", st.topic, err)
		}
	})
	return st
}

func openClickHouse(t *testing.T, dsn string) driver.Conn {
	t.Helper()
	conn, err := chx.Open(t.Context(), dsn)
	require.NoError(t, err)
	return conn
}

// testConfig is a small, quick sink with a consumer group of its own.
func testConfig(t *testing.T, batch int) Config {
	return Config{
		Group:         "test-sink-" + uuid.NewString(),
		SegmentsGroup: "test-segments-" + uuid.NewString(),
		BatchSize:     batch,
		BatchInterval: 100 * time.Millisecond,
		DrainTimeout:  10 * time.Second,
	}
}

// testLogger collects the logs and prints them only when the test failed
// (kafka-go may log after the test body returned).
func testLogger(t *testing.T) *slog.Logger {
	w := &testkit.LogBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("logs:\n" + w.String())
		}
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// running is one Service in a goroutine.
type running struct {
	svc    *Service
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func (st *stack) start(t *testing.T, cfg Config, wrap func(sink.Store) sink.Store) *running {
	t.Helper()
	return st.startCtx(t, context.Background(), cfg, wrap)
}

// startCtx runs a Service until ctx ends or stop is called.
func (st *stack) startCtx(t *testing.T, ctx context.Context, cfg Config, wrap func(sink.Store) sink.Store) *running {
	t.Helper()
	cfg.Topic = st.topic
	deps := Deps{ClickHouse: openClickHouse(t, st.dsn), Brokers: st.brokers, wrapStore: wrap}
	svc, err := New(cfg, deps, st.log)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(ctx)
	r := &running{svc: svc, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- svc.Run(ctx) }()
	t.Cleanup(func() { _ = r.stop() })
	return r
}

// stop cancels the service and returns Run's result.
func (r *running) stop() error {
	r.cancel()
	return r.wait()
}

// wait returns Run's result once it returned by itself or after stop.
func (r *running) wait() error {
	r.once.Do(func() {
		select {
		case r.err = <-r.done:
		case <-time.After(60 * time.Second):
			r.err = errors.New("service did not stop within 60s")
		}
	})
	return r.err
}

func newEvents(site string, n int) []schemas.Event {
	now := time.Now().UTC().Truncate(time.Millisecond)
	evs := make([]schemas.Event, n)
	for i := range evs {
		evs[i] = schemas.Event{
			EventID: uuid.NewString(), SiteID: site, SubscriberID: fmt.Sprintf("sub-%d", i%25),
			Type: schemas.EventPageView, Time: now, ClientTime: now, ServerTime: now,
			URL: "https://example.com/p/" + strconv.Itoa(i), Props: map[string]string{"i": strconv.Itoa(i)},
		}
	}
	return evs
}

func eventMessage(t *testing.T, ev schemas.Event) kafka.Message {
	t.Helper()
	v, err := json.Marshal(ev)
	require.NoError(t, err)
	return kafka.Message{Key: []byte(ev.Key()), Value: v}
}

func (st *stack) produce(t *testing.T, evs ...schemas.Event) {
	t.Helper()
	msgs := make([]kafka.Message, len(evs))
	for i, ev := range evs {
		msgs[i] = eventMessage(t, ev)
	}
	st.produceMsgs(t, msgs...)
}

func (st *stack) produceMsgs(t *testing.T, msgs ...kafka.Message) {
	t.Helper()
	w := kafkax.NewWriter(kafkax.WriterConfig{Brokers: st.brokers, Topic: st.topic}, st.log)
	defer func() { _ = w.Close() }()
	require.NoError(t, w.WriteMessages(t.Context(), msgs...))
}

func (st *stack) counts(t *testing.T, site string) (count, distinct uint64) {
	t.Helper()
	require.NoError(t, st.ch.QueryRow(t.Context(),
		`SELECT count(), uniqExact(event_id) FROM events WHERE site_id = ?`, site).Scan(&count, &distinct))
	return count, distinct
}

func (st *stack) waitForCount(t *testing.T, site string, n uint64) {
	t.Helper()
	require.Eventually(t, func() bool {
		c, _ := st.counts(t, site)
		return c >= n
	}, 60*time.Second, 50*time.Millisecond, "waiting for %d rows of site %s", n, site)
}

func (st *stack) partitions(t *testing.T, topic string) []int {
	t.Helper()
	md, err := st.client.Metadata(t.Context(), &kafka.MetadataRequest{Topics: []string{topic}})
	require.NoError(t, err)
	require.Len(t, md.Topics, 1)
	require.NoError(t, md.Topics[0].Error)
	var ps []int
	for _, p := range md.Topics[0].Partitions {
		ps = append(ps, p.ID)
	}
	return ps
}

// ends returns the end offset (next offset to be written) of each partition.
func (st *stack) ends(t *testing.T, topic string) map[int]int64 {
	t.Helper()
	var reqs []kafka.OffsetRequest
	for _, p := range st.partitions(t, topic) {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	res, err := st.client.ListOffsets(t.Context(), &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	require.NoError(t, err)
	out := map[int]int64{}
	for _, po := range res.Topics[topic] {
		require.NoError(t, po.Error)
		out[po.Partition] = po.LastOffset
	}
	return out
}

// committed returns the group's committed offset per partition of the test topic (-1: none).
func (st *stack) committed(t *testing.T, group string) map[int]int64 {
	t.Helper()
	res, err := st.client.OffsetFetch(t.Context(), &kafka.OffsetFetchRequest{
		GroupID: group, Topics: map[string][]int{st.topic: st.partitions(t, st.topic)},
	})
	require.NoError(t, err)
	require.NoError(t, res.Error)
	out := map[int]int64{}
	for _, p := range res.Topics[st.topic] {
		require.NoError(t, p.Error)
		out[p.Partition] = p.CommittedOffset
	}
	return out
}

// findDLQ reads the dead-letter topic from start and returns the message with value.
func (st *stack) findDLQ(t *testing.T, start map[int]int64, value []byte) kafka.Message {
	t.Helper()
	end := st.ends(t, schemas.TopicEventsDLQ)
	for p, from := range start {
		if end[p] <= from {
			continue
		}
		r := kafka.NewReader(kafka.ReaderConfig{Brokers: st.brokers, Topic: schemas.TopicEventsDLQ, Partition: p, MaxWait: 100 * time.Millisecond})
		require.NoError(t, r.SetOffset(from))
		for off := from; off < end[p]; off++ {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			m, err := r.ReadMessage(ctx) // no group: nothing is committed
			cancel()
			require.NoError(t, err)
			if bytes.Equal(m.Value, value) {
				_ = r.Close()
				return m
			}
		}
		_ = r.Close()
	}
	t.Fatalf("no message %q in %s", value, schemas.TopicEventsDLQ)
	return kafka.Message{}
}

func header(m kafka.Message, key string) string {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// crashingStore lets the first insert reach ClickHouse, then simulates the
// process dying before its commit: it cancels the run and fails every insert.
type crashingStore struct {
	sink.Store
	crash     func()
	mu        sync.Mutex
	crashed   bool
	firstRows int
}

func (c *crashingStore) InsertBatch(ctx context.Context, b *sink.Batch) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.crashed {
		return errors.New("process is dead")
	}
	if err := c.Store.InsertBatch(ctx, b); err != nil {
		return err
	}
	c.crashed, c.firstRows = true, len(b.Rows)
	c.crash()
	return errors.New("crashed after the insert")
}

// ambiguousStore applies every batch and reports the first attempt of each
// as failed, like a timeout after the server applied the insert.
type ambiguousStore struct {
	sink.Store
	mu   sync.Mutex
	seen map[string]bool
	n    int
}

func (a *ambiguousStore) InsertBatch(ctx context.Context, b *sink.Batch) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	if err := a.Store.InsertBatch(ctx, b); err != nil {
		return err
	}
	if !a.seen[b.Token()] {
		a.seen[b.Token()] = true
		return errors.New("read timeout after the insert was applied")
	}
	return nil
}

func (a *ambiguousStore) calls() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}
